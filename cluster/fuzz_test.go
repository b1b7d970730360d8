package cluster

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// FuzzSessionFromCookie: the ssid cookie parser (spec 3.5) never panics and yields either the socket id or a
// value of the session-id shape; a well-formed ssid cookie alone is found.
func FuzzSessionFromCookie(f *testing.F) {
	for _, s := range []string{
		"n/myapp/ssid=_w0_8000_0_N7KFnyIwEOtlHb0EAAAA",
		"a=b; n/myapp/ssid=host_w1_8000_1_abc%5Fdef; c=d",
		"n/myapp/ssid=%",
		"n/myapp/ssid=%zz%4",
		"n/myapp/ssid=; n/myapp/ssid=_w0_1_0_x",
		"n/myapp/ssid=_w0_8000_0_" + strings.Repeat("A", 300),
		"n/myapp/ssid=\x00_w0_8000_0_abcdefg",
		"n/myapp/ssid=a_b_c_d_e\"; x",
		"n/other/ssid=_w0_8000_0_abcdef",
		"",
	} {
		f.Add(s)
	}
	w := &Worker{ssidName: "n/myapp/ssid"}
	w.ssidRe = regexp.MustCompile(regexp.QuoteMeta(w.ssidName) + `=([^;]*)`)
	const socketID = "sock_w0_8000_0_socket"
	f.Fuzz(func(t *testing.T, cookie string) {
		r := &http.Request{Header: http.Header{"Cookie": {cookie}}}
		got := w.sessionFromCookie(r, socketID)
		if got != socketID && !validSessionID(got) {
			t.Fatalf("cookie %q gave %q: neither the socket id nor a session id", cookie, got)
		}
		if strings.ContainsAny(got, "; ,\"\\\x00\r\n") {
			t.Fatalf("cookie %q gave %q with a separator or control byte", cookie, got)
		}
		if validSessionID(cookie) && !strings.Contains(cookie, "%") {
			r := &http.Request{Header: http.Header{"Cookie": {"n/myapp/ssid=" + cookie}}}
			if got := w.sessionFromCookie(r, socketID); got != cookie {
				t.Fatalf("well-formed ssid %q read as %q", cookie, got)
			}
		}
	})
}

// FuzzOrigin: Origin parsing never panics, open origins admit everything, and an origin that parses to
// host:port is admitted by exactly the rule host:port (and refused by a rule for another port).
func FuzzOrigin(f *testing.F) {
	for _, s := range []string{
		"http://good.example", "https://good.example:8443", "127.0.0.1:8000", "good.example", "null",
		"http://[::1]:8000", "http://user@host", "http://host:99999", "http://host:0", "ws://h:1/path?q#f",
		"chrome-extension://abcdef", "http://%zz", "http://a b", "://", ":80", "[::1", "http://[fe80::1%25eth0]:80",
		"HTTP://UPPER.EXAMPLE:80", "http://xn--nxasmq6b.example", "http://h:080",
	} {
		f.Add(s, "")
	}
	f.Add("", "http://good.example/page?x=1")
	open, _ := parseOrigins("*:*")
	f.Fuzz(func(t *testing.T, origin, referer string) {
		if !open.allows(origin, referer) {
			t.Fatal("*:* refused an origin")
		}
		host, port, ok := splitOrigin(origin)
		if !ok || origin == "null" || origin == "" {
			return // "null" is host "*" (allows); "" falls back to the referer
		}
		if host == "" || host != strings.ToLower(host) || !validPort(port) {
			t.Fatalf("%q parsed to host %q port %q", origin, host, port)
		}
		rule := host
		if strings.Contains(host, ":") {
			rule = "[" + host + "]"
		}
		p, err := parseOrigins(rule + ":" + port)
		if err != nil || len(p.rules) != 1 || p.rules[0].host != host {
			return // hosts with separators (space, comma) cannot be written as a rule
		}
		if !p.allows(origin, referer) {
			t.Fatalf("rule %s:%s refused %q", rule, port, origin)
		}
		other := "1"
		if port == "1" {
			other = "2"
		}
		if q, err := parseOrigins(rule + ":" + other); err == nil && len(q.rules) == 1 && q.allows(origin, referer) {
			t.Fatalf("rule %s:%s admitted %q (port %s)", rule, other, origin, port)
		}
	})
}
