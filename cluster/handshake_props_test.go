package cluster

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// socket.cookie and socket.request are built on first use; they must still show the handshake request, be the
// same object on every read, and stay assignable.
func TestWorkerSocketHandshakeProperties(t *testing.T) {
	ctl := filepath.Join(t.TempDir(), "worker.js")
	src := `module.exports.run = function (worker) {
  worker.getSCServer().on('connection', function (socket) {
    socket.on('hs', function (data, res) {
      var first = socket.request;
      var out = { cookie: socket.cookie, header: socket.request.headers['x-test'], url: socket.request.url,
        same: first === socket.request };
      socket.cookie = 'replaced';
      out.replaced = socket.cookie;
      res.end(out);
    });
  });
};
`
	if err := os.WriteFile(ctl, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startWorker(t, ctl, nil)
	h := http.Header{}
	h.Set("X-Test", "hello")
	h.Set("Cookie", "a=1; b=x%20y")
	c := dialWS(t, ts.addr, h)
	defer c.ws.Close()
	c.handshake()
	cid := c.emit("hs", nil)
	r := c.next(responseTo(cid))
	var got struct {
		Cookie   map[string]string `json:"cookie"`
		Header   string            `json:"header"`
		URL      string            `json:"url"`
		Same     bool              `json:"same"`
		Replaced string            `json:"replaced"`
	}
	if err := json.Unmarshal(r.Data, &got); err != nil {
		t.Fatalf("response %s: %v", r.Data, err)
	}
	if got.Cookie["a"] != "1" || got.Cookie["b"] != "x y" {
		t.Errorf("socket.cookie = %v, want a=1 and b='x y'", got.Cookie)
	}
	if got.Header != "hello" {
		t.Errorf("socket.request.headers['x-test'] = %q, want hello", got.Header)
	}
	if want := "/socketcluster/?EIO=3&transport=websocket"; got.URL != want {
		t.Errorf("socket.request.url = %q, want %q", got.URL, want)
	}
	if !got.Same {
		t.Error("socket.request is a new object on every read")
	}
	if got.Replaced != "replaced" {
		t.Errorf("socket.cookie after assignment = %q, want replaced", got.Replaced)
	}
}
