package engineio

import (
	"net/http"
	"testing"

	"github.com/gorilla/websocket"
)

// TestCheckOriginEveryRequest: the origin hook guards the handshake and every later request of a socket (polling
// GET, POST, OPTIONS, WebSocket probe); refusals carry no CORS headers and leave the session alone; allowed
// requests reflect their Origin.
func TestCheckOriginEveryRequest(t *testing.T) {
	const good, evil = "http://good.example", "http://evil.example"
	h := newHarness(t, Config{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == good }})

	// Handshake from a refused origin.
	r := h.do("GET", "EIO=2&transport=polling", map[string]string{"Origin": evil}, nil)
	if r.status != 400 || string(r.body) != `{"code":null}` || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("evil handshake: %d %q %v", r.status, r.body, r.header)
	}
	// Allowed handshake reflects the origin.
	r = h.do("GET", "EIO=2&transport=polling", map[string]string{"Origin": good}, nil)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != good {
		t.Fatalf("good handshake: %d %v", r.status, r.header)
	}
	ps, err := DecodePayloadBinary(r.body)
	if err != nil || len(ps) != 1 {
		t.Fatal(ps, err)
	}
	c := h.nextConn()
	sid := c.sock.ID()

	q := "EIO=2&transport=polling&sid=" + sid
	for _, tc := range []struct {
		method string
		body   []byte
	}{
		{"GET", nil},
		{"POST", EncodePayloadBinary(nil, []Packet{{Type: Message, Data: "stolen"}})},
		{"OPTIONS", nil},
	} {
		for _, hdr := range []map[string]string{{"Origin": evil}, nil, {"Referer": evil + "/page"}} {
			r := h.do(tc.method, q, hdr, tc.body)
			if r.status != 400 || string(r.body) != `{"code":null}` || r.header.Get("Access-Control-Allow-Origin") != "" ||
				r.header.Get("Set-Cookie") != "" {
				t.Errorf("%s with %v: %d %q %v", tc.method, hdr, r.status, r.body, r.header)
			}
		}
	}
	// A probe from the wrong origin is dropped without a 101.
	hd := http.Header{}
	hd.Set("Origin", evil)
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	if ws, _, err := d.Dial(h.wsURL("EIO=2&transport=websocket&sid="+sid), hd); err == nil {
		ws.Close()
		t.Error("probe from a refused origin was upgraded")
	}
	// The session survived all that and the refused POST delivered nothing.
	c.rec.assertOpen(t)
	ok := map[string]string{"Origin": good, "Content-Type": contentTypeBinary}
	r = h.do("POST", q, ok, EncodePayloadBinary(nil, []Packet{{Type: Message, Data: "mine"}}))
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != good {
		t.Fatalf("good post: %d %v", r.status, r.header)
	}
	if m := c.rec.nextMsg(t); m != "mine" {
		t.Fatalf("first message %q, want mine", m)
	}
}

func TestCheckOriginWebSocketFirst(t *testing.T) {
	h := newHarness(t, Config{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "http://ok" }})
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	for _, tc := range []struct {
		origin string
		ok     bool
	}{{"http://ok", true}, {"http://bad", false}, {"", false}} {
		hd := http.Header{}
		if tc.origin != "" {
			hd.Set("Origin", tc.origin)
		}
		ws, res, err := d.Dial(h.wsURL("EIO=2&transport=websocket"), hd)
		if (err == nil) != tc.ok {
			t.Errorf("origin %q: err %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if res != nil && !tc.ok {
			t.Errorf("origin %q: got an HTTP response %d, want a closed connection", tc.origin, res.StatusCode)
		}
		if ws != nil {
			h.nextConn()
			ws.Close()
		}
	}
}

func TestDisableJSONP(t *testing.T) {
	h := newHarness(t, Config{DisableJSONP: true})
	r := h.do("GET", "EIO=2&transport=polling&j=0", nil, nil)
	if r.status != 400 || string(r.body) != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("JSONP handshake: %d %q", r.status, r.body)
	}
	if n := h.srv.Clients(); n != 0 {
		t.Fatalf("%d sockets registered", n)
	}
	// XHR text and binary polling still work.
	for _, q := range []string{"EIO=2&transport=polling&b64=1", "EIO=2&transport=polling"} {
		if r := h.do("GET", q, nil, nil); r.status != 200 {
			t.Errorf("%s: %d", q, r.status)
		}
		h.nextConn()
	}
}
