package cluster

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Handshake rate limit defaults.
const (
	// DefaultHandshakeRateLimit is how many new connections (engine.io
	// handshakes) one client address may start per second, sustained.
	DefaultHandshakeRateLimit = 20
	// handshakeBurstSeconds is the bucket size in seconds of the rate: an
	// address may open 2 s worth of handshakes at once (a page reload with
	// several sockets, a reconnect wave behind one NAT).
	handshakeBurstSeconds = 2
	// maxRateBuckets bounds the addresses tracked; when a flood from more
	// addresses fills the table, refilled buckets are dropped and, if that
	// frees nothing, the table restarts empty (fail open, bounded memory).
	maxRateBuckets = 1 << 16
)

// ErrHandshakeRate reports a handshake refused by the per-address rate
// limit.
var ErrHandshakeRate = errors.New("handshake rate limit exceeded")

// rateLimiter is a token bucket per client address.
type rateLimiter struct {
	rate, burst float64
	now         func() time.Time

	mu      sync.Mutex
	buckets map[string]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

// newRateLimiter allows perSecond events per key, sustained, with a burst
// of handshakeBurstSeconds*perSecond. perSecond <= 0 returns nil (no limit).
func newRateLimiter(perSecond int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{
		rate:    float64(perSecond),
		burst:   float64(perSecond * handshakeBurstSeconds),
		now:     time.Now,
		buckets: make(map[string]*tokenBucket),
	}
}

// allow takes one token of key's bucket. A nil limiter allows everything,
// and so does a loopback key: local clients (load tests, a same-host proxy
// that sends no X-Forwarded-For) are not the flood this guards against.
func (l *rateLimiter) allow(key string) bool {
	if l == nil {
		return true
	}
	if ip := net.ParseIP(key); ip != nil && ip.IsLoopback() {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxRateBuckets {
			l.sweepLocked(now)
		}
		b = &tokenBucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweepLocked drops buckets that have refilled (same as absent); if none
// did, it starts over.
func (l *rateLimiter) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxRateBuckets {
		clear(l.buckets)
	}
}

// rateKey is the client address a handshake is charged to: the peer's IP,
// except behind our balancer (a loopback peer), where it is the last
// X-Forwarded-For entry, the one the balancer appended. Earlier entries are
// written by the client and would let it pick its own bucket.
func rateKey(r *http.Request) string {
	ip := remoteIP(r)
	if p := net.ParseIP(ip); p != nil && p.IsLoopback() {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if last = strings.TrimSpace(last); last != "" {
				return last
			}
		}
	}
	return ip
}
