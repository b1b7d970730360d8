package cluster

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// originRule is one entry of the SC origins option: host:port with * for
// either part. host is lower case without IPv6 brackets.
type originRule struct{ host, port string }

type originPolicy struct {
	any   bool
	rules []originRule
}

// parseOrigins parses "host:port host2:* *:8000" (space or comma
// separated). A port is * or a decimal number 1-65535; an IPv6 host is
// written in brackets ("[::1]:8000").
func parseOrigins(s string) (originPolicy, error) {
	var p originPolicy
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		i := strings.LastIndexByte(f, ':')
		if i <= 0 || i == len(f)-1 {
			return p, fmt.Errorf("%w: origins: %q is not host:port (use * for any host or port)", ErrBadOption, f)
		}
		r := originRule{host: strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(f[:i], "["), "]")), port: f[i+1:]}
		if r.port != "*" && !validPort(r.port) {
			return p, fmt.Errorf("%w: origins: %q: port must be * or 1-65535", ErrBadOption, f)
		}
		if r.host == "*" && r.port == "*" {
			p.any = true
		}
		p.rules = append(p.rules, r)
	}
	if len(p.rules) == 0 {
		return p, fmt.Errorf("%w: origins is empty", ErrBadOption)
	}
	return p, nil
}

// allows applies the SC 0.9.42 rule: with *:* everything passes; otherwise
// the Origin header (or, when absent, the Referer) is parsed and must match
// a listed host:port, host:* or *:port. The parsing rules, explicit because
// old clients send odd values:
//
//   - "scheme://host[:port][/path]": the port defaults to 443 for https and
//     wss, 80 for every other scheme (SC used 80 for all; 443 is the port an
//     https page really has).
//   - Scheme-less "host:port" (engine.io-client 1.3.1 in Node sends
//     "127.0.0.1:8000") is host and port; scheme-less "host" has port 80.
//   - The literal "null" (sandboxed frames, file: pages) is host "*" port
//     80, so only the rules *:80 and *:* admit it (SC 0.9.42).
//   - No Origin and no Referer: refused (SC 0.9.42; non-browser clients
//     must send one when origins are restricted).
//   - Refused as unparseable: an empty host, user info ("a@b"), a port that
//     is not 1-65535, control characters, more than maxOriginLen bytes.
//
// Host names compare case-insensitively; IPv6 hosts without brackets.
func (p originPolicy) allows(origin, referer string) bool {
	if p.any {
		return true
	}
	if origin == "" {
		origin = referer
	}
	if origin == "" {
		return false
	}
	host, port := "*", "80"
	if origin != "null" {
		h, pt, ok := splitOrigin(origin)
		if !ok {
			return false
		}
		host, port = h, pt
	}
	for _, r := range p.rules {
		if (r.host == host || r.host == "*") && (r.port == port || r.port == "*") {
			return true
		}
	}
	return false
}

// maxOriginLen bounds the Origin (or Referer) value that is parsed at all.
const maxOriginLen = 2048

// splitOrigin returns the lower-case host and the port of an Origin or
// Referer value by the rules of allows.
func splitOrigin(origin string) (host, port string, ok bool) {
	if len(origin) > maxOriginLen {
		return "", "", false
	}
	for i := 0; i < len(origin); i++ {
		if origin[i] <= ' ' || origin[i] == 0x7f {
			return "", "", false
		}
	}
	if !strings.Contains(origin, "://") {
		origin = "http://" + origin
	}
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" || u.User != nil || u.Opaque != "" {
		return "", "", false
	}
	host = strings.ToLower(u.Hostname())
	port = u.Port()
	switch {
	case port == "" && (u.Scheme == "https" || u.Scheme == "wss"):
		port = "443"
	case port == "":
		port = "80"
	case !validPort(port):
		return "", "", false
	}
	return host, port, true
}

// validPort reports whether s is a decimal port 1-65535 without a sign or
// leading zeros.
func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == s
}
