package jsapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// propConn is a recConn with its own id, session id, addresses and handshake cookie.
type propConn struct {
	recConn
	id, ssid, addr, clientAddr string
}

func (c *propConn) ID() string            { return c.id }
func (c *propConn) SSID() string          { return c.ssid }
func (c *propConn) Address() string       { return c.addr }
func (c *propConn) ClientAddress() string { return c.clientAddr }
func (c *propConn) Request() *http.Request {
	return &http.Request{Header: http.Header{"Cookie": {"k=" + c.id + "%20v"}}}
}

// TestSocketProperties checks the socket's properties read through its prototype: while open, in its close
// listener, after close, and that assignments make ordinary own properties.
func TestSocketProperties(t *testing.T) {
	w := startScript(t, "sockprops.js")
	open := func(id, ssid, addr, clientAddr string) (Handle, *propConn) {
		c := &propConn{recConn: recConn{got: map[string][2]string{}, emitted: map[string]string{}}, id: id, ssid: ssid, addr: addr, clientAddr: clientAddr}
		h := w.NewHandle()
		if err := w.Open(h, c); err != nil {
			t.Fatal(err)
		}
		if err := w.Ready(h); err != nil {
			t.Fatal(err)
		}
		return h, c
	}
	ask := func(h Handle, c *propConn, event, data, cid string) any {
		t.Helper()
		if err := w.Event(h, event, data, cid); err != nil {
			t.Fatal(err)
		}
		r, ok := c.response(t, cid)
		if !ok || r[0] != "" {
			t.Fatalf("%s: response %q (%v)", event, r, ok)
		}
		var v any
		if r[1] != "" {
			if err := json.Unmarshal([]byte(r[1]), &v); err != nil {
				t.Fatalf("%s: %v", event, err)
			}
		}
		return v
	}
	props := func(id, ssid, addr, clientAddr, readyState, ownKeys string) map[string]any {
		return map[string]any{
			"id": id, "ssid": ssid, "address": addr, "clientAddress": clientAddr, "cookie": id + " v", "sameCookie": true,
			"requestCookie": "k=" + id + "%20v", "session": []any{ssid, id, true}, "global": []any{id, true, "function"},
			"server": true, "readyState": readyState, "ownKeys": ownKeys,
		}
	}
	ha, ca := open("a1", "s1", "10.0.0.1", "")
	hb, cb := open("b2", "s2", "10.0.0.2", "192.0.2.7")
	wantA := props("a1", "s1", "10.0.0.1", "undefined", "open", "_events,_eventsCount,_handle,cookie,global,request,session")
	if got := ask(ha, ca, "props", "", "1"); !reflect.DeepEqual(got, any(wantA)) {
		t.Errorf("open socket:\n got %v\nwant %v", got, wantA)
	}
	if err := w.Closed(ha, "gone"); err != nil {
		t.Fatal(err)
	}
	closedA := props("a1", "s1", "10.0.0.1", "undefined", "closed", "_closed,_events,_eventsCount,_handle,cookie,global,readyState,request,session")
	want := map[string]any{"onClose": closedA, "later": closedA}
	deadline := time.Now().Add(5 * time.Second)
	var got any
	for i := 2; time.Now().Before(deadline); i++ {
		if got = ask(hb, cb, "seen", `"a1"`, "c"+time.Now().Format("150405.000000")); reflect.DeepEqual(got, any(want)) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if !reflect.DeepEqual(got, any(want)) {
		t.Errorf("closed socket:\n got %v\nwant %v", got, want)
	}
	wantB := props("b2", "s2", "10.0.0.2", "192.0.2.7", "open", "_events,_eventsCount,_handle,cookie,global,request,session")
	if got := ask(hb, cb, "props", "", "2"); !reflect.DeepEqual(got, any(wantB)) {
		t.Errorf("socket with a client address:\n got %v\nwant %v", got, wantB)
	}
	if got, want := ask(hb, cb, "assign", "", "3"), []any{"assigned", "mine", 1.0, "s2"}; !reflect.DeepEqual(got, any(want)) {
		t.Errorf("assignments: got %v, want %v", got, want)
	}
}
