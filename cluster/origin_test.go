package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/socketcluster-go/socketcluster/cluster/engineio"
)

func TestParseOrigins(t *testing.T) {
	for _, tc := range []struct {
		in  string
		any bool
		err bool
	}{
		{"*:*", true, false},
		{"a.example:80, *:*", true, false},
		{"a.example:* *:8000 [::1]:9000", false, false},
		{"", false, true},
		{"a.example", false, true},
		{":80", false, true},
		{"a.example:", false, true},
		{"a.example:http", false, true},
		{"a.example:0", false, true},
		{"a.example:65536", false, true},
		{"a.example:080", false, true},
	} {
		p, err := parseOrigins(tc.in)
		if (err != nil) != tc.err || (err != nil && !errors.Is(err, ErrBadOption)) {
			t.Errorf("%q: err %v, want error=%v", tc.in, err, tc.err)
			continue
		}
		if err == nil && p.any != tc.any {
			t.Errorf("%q: any=%v", tc.in, p.any)
		}
	}
}

func TestOriginAllows(t *testing.T) {
	p, err := parseOrigins("good.example:* *:9999 exact.example:8443 [::1]:8000 127.0.0.1:3000 *:80")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		origin, referer string
		ok              bool
	}{
		// host:*
		{"http://good.example", "", true},
		{"https://good.example:8443", "", true},
		{"http://GOOD.example:1", "", true},
		// *:port
		{"http://evil.example:9999", "", true},
		// host:port, default ports by scheme
		{"https://exact.example:8443", "", true},
		{"https://exact.example", "", false}, // 443
		{"http://exact.example:8444", "", false},
		{"http://[::1]:8000", "", true},
		{"http://[::1]:8001", "", false},
		// *:80 admits any host on port 80, including https with explicit :80 and "null"
		{"http://evil.example", "", true},
		{"https://evil.example", "", false},
		{"https://evil.example:80", "", true},
		{"null", "", true},
		// Scheme-less values (engine.io-client 1.3.1 in Node): host:port, or host alone = port 80.
		{"127.0.0.1:3000", "", true},
		{"127.0.0.1:3001", "", false},
		{"evil.example:9999", "", true},
		{"evil.example", "", true},
		{"exact.example:8443", "", true},
		// Referer only when Origin is absent.
		{"", "http://good.example/page?x=1", true},
		{"", "http://evil.example:1234/page", false},
		{"http://evil.example:1234", "http://good.example/", false},
		{"", "", false},
		// Unparseable.
		{"http://user@good.example", "", false},
		{"good.example:9999@evil.example:1", "", false},
		{"http://:9999", "", false},
		{"http://evil.example:99999", "", false},
		{"http://evil.example:-1", "", false},
		{"http://evil.example:0", "", false},
		{"http://good.example\x00", "", false},
		{"http://good .example", "", false},
		{"http://" + strings.Repeat("a", maxOriginLen) + ".good.example", "", false},
		{"mailto:x@good.example", "", false},
	} {
		if got := p.allows(tc.origin, tc.referer); got != tc.ok {
			t.Errorf("allows(%q, %q) = %v, want %v", tc.origin, tc.referer, got, tc.ok)
		}
	}
	open, _ := parseOrigins("*:*")
	for _, o := range []string{"", "null", "garbage:::", "http://evil.example"} {
		if !open.allows(o, "") {
			t.Errorf("*:* refused %q", o)
		}
	}
	// "null" is host "*" port 80: refused when no rule has host * with port 80 or *.
	strict, _ := parseOrigins("good.example:80")
	if strict.allows("null", "") {
		t.Error(`good.example:80 admitted "null"`)
	}
}

// TestWorkerOriginsPolling: with restricted origins the worker checks every polling request, not only the
// handshake, never reflects a refused Origin, and refuses JSONP (readable cross-site whatever CORS says).
func TestWorkerOriginsPolling(t *testing.T) {
	ts := startWorker(t, echoController(t), func(o *Options) { o.Origins = "good.example:*" })
	base := "http://" + ts.addr + "/socketcluster/?EIO=2&transport=polling"
	get := func(url, origin string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	if code, body, h := get(base+"&b64=1", "http://evil.example"); code != 400 || body != `{"code":null}` ||
		h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("evil handshake: %d %q %v", code, body, h)
	}
	if code, body, _ := get(base+"&b64=1&j=0", "http://good.example"); code != 400 || !strings.Contains(body, `"code":3`) {
		t.Fatalf("JSONP handshake: %d %q", code, body)
	}
	code, body, h := get(base+"&b64=1", "http://good.example")
	if code != 200 || h.Get("Access-Control-Allow-Origin") != "http://good.example" {
		t.Fatalf("good handshake: %d %q %v", code, body, h)
	}
	ps, err := engineio.DecodePayloadText([]byte(body))
	if err != nil || len(ps) != 1 {
		t.Fatal(ps, err)
	}
	var open struct{ SID string }
	if err := json.Unmarshal([]byte(ps[0].Data), &open); err != nil {
		t.Fatal(err)
	}
	poll := base + "&b64=1&sid=" + url.QueryEscape(open.SID)
	if code, body, h := get(poll, "http://evil.example"); code != 400 || h.Get("Access-Control-Allow-Origin") != "" ||
		strings.Contains(body, "connect") {
		t.Fatalf("evil poll: %d %q %v", code, body, h)
	}
	if code, body, _ := get(poll, "http://good.example"); code != 200 || !strings.Contains(body, `"connect"`) {
		t.Fatalf("good poll after the refused one: %d %q", code, body)
	}
}
