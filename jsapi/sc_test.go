package jsapi

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jsrt "github.com/socketcluster-go/socketcluster/runtime"
)

// recConn records the responses a test socket gets.
type recConn struct {
	benchConn
	mu      sync.Mutex
	got     map[string][2]string // cid -> error JSON, data JSON
	emitted map[string]string    // event -> data JSON of the server's emits
}

func (c *recConn) Emit(event, dataJSON string) int64 {
	c.mu.Lock()
	c.emitted[event] = dataJSON
	c.mu.Unlock()
	return 1
}

func (c *recConn) Respond(cid, errJSON, data string) {
	c.mu.Lock()
	c.got[cid] = [2]string{errJSON, data}
	c.mu.Unlock()
}

func (c *recConn) response(t *testing.T, cid string) ([2]string, bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		r, ok := c.got[cid]
		c.mu.Unlock()
		if ok {
			return r, true
		}
		time.Sleep(time.Millisecond)
	}
	return [2]string{}, false
}

// startScript starts a loop and a Worker (logging discarded) running testdata/<script>; both stop when tb ends.
func startScript(tb testing.TB, script string) *Worker {
	tb.Helper()
	dir, _ := filepath.Abs("testdata")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	loop, err := jsrt.New(jsrt.Options{AppDir: dir, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	loop.Start()
	tb.Cleanup(func() { _ = loop.Stop(context.Background()) })
	w, err := New(Config{Loop: loop, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.Run(filepath.Join(dir, script)); err != nil {
		tb.Fatal(err)
	}
	return w
}

func startEventsWorker(t *testing.T) (*Worker, Handle, *recConn) {
	t.Helper()
	w := startScript(t, "events.js")
	c := &recConn{got: map[string][2]string{}, emitted: map[string]string{}}
	h := w.NewHandle()
	if err := w.Open(h, c); err != nil {
		t.Fatal(err)
	}
	if err := w.Ready(h); err != nil {
		t.Fatal(err)
	}
	return w, h, c
}

func TestEventDispatch(t *testing.T) {
	w, h, c := startEventsWorker(t)
	tests := []struct {
		event, data, cid string
		want             [2]string // error JSON, data JSON
		answered         bool
	}{
		{"echo", `{"n":12345,"text":"hello world"}`, "1", [2]string{"", `{"n":12345,"text":"hello world"}`}, true},
		{"echo", `"\ud834\udd1e \u00e9"`, "2", [2]string{"", `"𝄞 é"`}, true},
		{"echo", ``, "3", [2]string{"", ``}, true}, // no data: res.end(undefined)
		{"echo", `[1,-0,1.5e300,null]`, "4", [2]string{"", `[1,0,1.5e+300,null]`}, true},
		{"this", `1`, `"c"`, [2]string{"", `true`}, true},     // this is the socket, res carries socket and cid
		{"two", `1`, "5", [2]string{"", `"first"`}, true},     // two listeners: the second one's end throws
		{"once", `7`, "6", [2]string{"", `["once",7]`}, true}, // a once listener
		{"once", `8`, "7", [2]string{}, false},                // ... is gone
		{"kind", `[1]`, "8", [2]string{"", `"object:true"`}, true},
		{"mw", `{"a":1}`, "9", [2]string{`"blocked {\"a\":1}"`, ``}, true}, // emit middleware rejects
		{"echo", `{"a":1e400}`, "10", [2]string{}, false},                  // JSON.parse throws: no answer (as before)
		{"throws", `1`, "11", [2]string{}, false},
		{"getter", `1`, "12", [2]string{"", `{"g":"got"}`}, true},
		{"date", `1`, "13", [2]string{"", `{"d":"1970-01-01T00:00:00.000Z"}`}, true}, // toJSON: JSON.stringify's path
		{"nobody", `1`, "14", [2]string{}, false},
		{"buffer", `1`, "21", [2]string{"", `{"b":{"base64":true,"data":"aGk="}}`}, true}, // api.js's Buffer replacer
		{"cycle", `1`, "22", [2]string{}, false},                                          // res.end throws JSON.stringify's TypeError
		{"mwfalsy", `1`, "15", [2]string{"", `"mwfalsy ran"`}, true},
		{"mwlater", `1`, "16", [2]string{"", `"mwlater ran"`}, true},
		{"mwtwice", `1`, "17", [2]string{"", `"mwtwice ran"`}, true},
		{"mwargs", `1`, "18", [2]string{"", `"mwargs ran"`}, true},
		{"mwsecond", `1`, "19", [2]string{`{"code":7}`, ``}, true},
	}
	for _, tt := range tests {
		if err := w.Event(h, tt.event, tt.data, tt.cid); err != nil {
			t.Fatal(err)
		}
		if !tt.answered {
			continue
		}
		got, ok := c.response(t, tt.cid)
		if !ok {
			t.Errorf("%s %s: no response", tt.event, tt.data)
			continue
		}
		if got != tt.want {
			t.Errorf("%s %s: response %q, want %q", tt.event, tt.data, got, tt.want)
		}
	}
	// a throwing middleware rejects with the error as {name, message, stack}
	if err := w.Event(h, "mwthrow", `1`, "20"); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.response(t, "20"); !ok || !strings.HasPrefix(got[0], `{"name":"Error","message":"mw threw","stack":"Error: mw threw`) || got[1] != "" {
		t.Errorf("mwthrow: response %q (%v)", got, ok)
	}
	// the unanswered ones: a last event is answered after them (one loop, in order)
	if err := w.Event(h, "echo", `"last"`, "99"); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.response(t, "99"); !ok {
		t.Fatal("no response to the last event")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if got := c.emitted["caught"]; got != `"TypeError sent=true"` {
		t.Errorf("cycle: the handler caught %s, want a TypeError after sent was set", got)
	}
	for _, tt := range tests {
		if _, ok := c.got[tt.cid]; ok != tt.answered {
			t.Errorf("%s %s: answered %v, want %v", tt.event, tt.data, ok, tt.answered)
		}
	}
}
