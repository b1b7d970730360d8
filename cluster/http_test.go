package cluster

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func httpxController(t testing.TB) string {
	p, err := filepath.Abs("testdata/httpx/worker.js")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t *testing.T, url string, hdr map[string][]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestWorkerNodeStyleResponse(t *testing.T) {
	ts := startWorker(t, httpxController(t), nil)
	base := "http://" + ts.addr

	resp, _ := get(t, base+"/cookies", nil)
	if got := resp.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Errorf("Set-Cookie array: %v", got)
	}
	resp, body := get(t, base+"/arrayhead", nil)
	if resp.StatusCode != 202 || resp.Header.Get("X-One") != "1" || resp.Header.Get("X-Two") != "2" || body != "ok" {
		t.Errorf("writeHead with array headers: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	if resp.ContentLength != 2 {
		t.Errorf("res.end(data) should send Content-Length 2, got %d", resp.ContentLength)
	}
	_, body = get(t, base+"/stream", nil)
	if body != "one,two,three" {
		t.Errorf("streamed body %q", body)
	}
	_, body = get(t, base+"/after-end", nil)
	if body != "done" {
		t.Errorf("after-end body %q", body)
	}
	waitFor(t, func() bool { return strings.Contains(ts.logs.String(), "write after end: ERR_STREAM_WRITE_AFTER_END") }, "write after end error code")

	resp, body = get(t, base+"/headers", map[string][]string{"User-Agent": {"tester/1"}, "X-Multi": {"a", "b"}})
	var h struct {
		Method, UA, Multi, Version string
		HasRemote                  bool
		HeaderNames                []string
		Sent                       bool
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("headers body %q: %v", body, err)
	}
	if h.Method != "GET" || h.UA != "tester/1" || h.Multi != "a, b" || h.Version != "1.1" || !h.HasRemote || h.Sent {
		t.Errorf("req fields %+v", h)
	}
	if len(h.HeaderNames) != 1 || h.HeaderNames[0] != "content-type" {
		t.Errorf("getHeaderNames %v", h.HeaderNames)
	}

	bin := bytes.Repeat([]byte{7}, 200<<10)
	bin[0], bin[len(bin)-1] = 1, 255
	r2, err := http.Post(base+"/binary", "application/octet-stream", bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if string(b2) != "204800:1:255" {
		t.Errorf("binary body round trip %q", b2)
	}
}

func TestWorkerRequestEventSeesEngineTraffic(t *testing.T) {
	ts := startWorker(t, httpxController(t), nil)
	base := "http://" + ts.addr
	resp, err := http.Get(base + "/socketcluster/?EIO=3&transport=polling&b64=1")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("handshake status %d", resp.StatusCode)
	}
	waitFor(t, func() bool {
		_, body := get(t, base+"/seen", nil)
		return strings.Contains(body, "/socketcluster/?EIO=3")
	}, "'request' listener saw the engine request")
}
