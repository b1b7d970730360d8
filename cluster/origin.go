package cluster

import (
	"fmt"
	"net/url"
	"strings"
)

// originRule is one entry of the SC origins option: host:port with * for
// either part.
type originRule struct{ host, port string }

type originPolicy struct {
	any   bool
	rules []originRule
}

// parseOrigins parses "host:port host2:* *:8000" (space or comma separated).
func parseOrigins(s string) (originPolicy, error) {
	var p originPolicy
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		i := strings.LastIndexByte(f, ':')
		if i <= 0 || i == len(f)-1 {
			return p, fmt.Errorf("%w: origins: %q is not host:port (use * for any host or port)", ErrBadOption, f)
		}
		r := originRule{host: strings.ToLower(f[:i]), port: f[i+1:]}
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
// the Origin header (or Referer) is parsed, "null" counts as "*", the port
// defaults by scheme, and host:port, host:* or *:port must be listed.
// Scheme-less origins ("127.0.0.1:8000", sent by engine.io-client 1.3.1 in
// Node) are read as host:port.
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

func splitOrigin(origin string) (host, port string, ok bool) {
	if !strings.Contains(origin, "://") {
		origin = "http://" + origin
	}
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return "", "", false
	}
	host = strings.ToLower(u.Hostname())
	port = u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" || u.Scheme == "wss" {
			port = "443"
		}
	}
	return host, port, true
}
