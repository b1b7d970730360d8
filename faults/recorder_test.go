package faults

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// The recorder keeps every publish attempt, every delivery and every connection's life; the checker judges them
// after the run.

type pubKey struct {
	p string // publisher: client name/connection number
	s int
}

type pubRec struct {
	ch    string
	sent  time.Time
	acked time.Time // zero: no successful ack
}

type delivery struct {
	client string
	conn   int
	event  string // the channel the server delivered on
	ch     string // the channel the publisher named in the payload
	key    pubKey
	at     time.Time
}

type connRec struct {
	client   string
	no       int
	up, down time.Time
}

type window struct {
	name       string
	start, end time.Time
}

type recorder struct {
	mu         sync.Mutex
	pubs       map[pubKey]*pubRec
	deliveries []delivery
	conns      []*connRec
	// newest publish send time delivered, per client and channel (recovery detection)
	newest map[string]map[string]time.Time
	bad    []string // undecodable deliveries
}

func newRecorder() *recorder {
	return &recorder{pubs: map[pubKey]*pubRec{}, newest: map[string]map[string]time.Time{}}
}

func (r *recorder) sent(k pubKey, ch string) {
	r.mu.Lock()
	r.pubs[k] = &pubRec{ch: ch, sent: time.Now()}
	r.mu.Unlock()
}

func (r *recorder) acked(k pubKey) {
	r.mu.Lock()
	r.pubs[k].acked = time.Now()
	r.mu.Unlock()
}

type payload struct {
	C string `json:"c"`
	P string `json:"p"`
	S int    `json:"s"`
}

func (r *recorder) deliver(client string, conn int, event string, data json.RawMessage) {
	now := time.Now()
	var pl payload
	err := json.Unmarshal(data, &pl)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || pl.P == "" {
		r.bad = append(r.bad, fmt.Sprintf("%s#%d got %s %s", client, conn, event, data))
		return
	}
	k := pubKey{pl.P, pl.S}
	r.deliveries = append(r.deliveries, delivery{client: client, conn: conn, event: event, ch: pl.C, key: k, at: now})
	if p := r.pubs[k]; p != nil {
		m := r.newest[client]
		if m == nil {
			m = map[string]time.Time{}
			r.newest[client] = m
		}
		if p.sent.After(m[event]) {
			m[event] = p.sent
		}
	}
}

func (r *recorder) up(client string, no int) *connRec {
	c := &connRec{client: client, no: no, up: time.Now()}
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
	return c
}

func (r *recorder) down(c *connRec) {
	r.mu.Lock()
	c.down = time.Now()
	r.mu.Unlock()
}

// receivingSince reports whether client has received, on every channel, a message published after t.
func (r *recorder) receivingSince(client string, channels []string, t time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range channels {
		if !r.newest[client][ch].After(t) {
			return false
		}
	}
	return true
}

func (r *recorder) deliveryCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.deliveries)
}

// verdict is the checker's result.
type verdict struct {
	phantoms, duplicates, reorders, leaks []string
	missing                               []string // acked outside fault windows, not delivered to a connection up throughout
	checkedPairs                          int      // (publish, connection) pairs the completeness check covered
	published, ackedN, failed             int
	deliveries                            int
	lostInWindow                          map[string]int // per window: (acked publish, connection up throughout) pairs missing
	failedInWindow                        map[string]int // per window: publishes without a successful ack
	stray                                 []string
	disconnects                           []string // connections that ended outside every fault window before endAt
}

const (
	// deliveryGrace: a connection must stay up this long after a publish's ack to count as connected throughout.
	deliveryGrace = 2 * time.Second
	// windowLead: a publish acked this shortly before a fault belongs to the fault's window.
	windowLead = 500 * time.Millisecond
)

// check judges the record. subs maps each client to its channels; only those clients are expected to receive.
// Connections that end before endAt must end inside a fault window.
func (r *recorder) check(subs map[string][]string, windows []window, endAt time.Time) verdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := verdict{lostInWindow: map[string]int{}, failedInWindow: map[string]int{}, deliveries: len(r.deliveries), stray: r.bad}
	for _, c := range r.conns {
		if c.down.IsZero() || !c.down.Before(endAt) {
			continue
		}
		inside := false
		for _, w := range windows {
			if !c.down.Before(w.start) && !c.down.After(w.end) {
				inside = true
			}
		}
		if !inside {
			v.disconnects = append(v.disconnects, fmt.Sprintf("%s#%d ended at %s", c.client, c.no, c.down.Format("15:04:05.000")))
		}
	}
	type ck struct {
		client string
		conn   int
	}
	seen := map[ck]map[pubKey]bool{}
	last := map[string]int{} // client#conn|channel|publisher -> last seq
	for _, d := range r.deliveries {
		p := r.pubs[d.key]
		if p == nil || p.ch != d.event || d.ch != d.event {
			v.phantoms = append(v.phantoms, fmt.Sprintf("%s#%d got %+v on %s (published: %+v)", d.client, d.conn, d.key, d.event, p))
			continue
		}
		if !contains(subs[d.client], d.event) {
			v.leaks = append(v.leaks, fmt.Sprintf("%s#%d got %+v on %s, subscribed to %v", d.client, d.conn, d.key, d.event, subs[d.client]))
		}
		c := ck{d.client, d.conn}
		if seen[c] == nil {
			seen[c] = map[pubKey]bool{}
		}
		if seen[c][d.key] {
			v.duplicates = append(v.duplicates, fmt.Sprintf("%s#%d got %+v twice", d.client, d.conn, d.key))
			continue
		}
		seen[c][d.key] = true
		lk := fmt.Sprintf("%s#%d|%s|%s", d.client, d.conn, d.event, d.key.p)
		if prev, ok := last[lk]; ok && d.key.s < prev {
			v.reorders = append(v.reorders, fmt.Sprintf("%s: seq %d after %d", lk, d.key.s, prev))
		}
		last[lk] = d.key.s
	}
	inWindow := func(p *pubRec) string {
		for _, w := range windows {
			end := p.acked
			if end.IsZero() {
				end = p.sent.Add(callTimeout)
			}
			if !end.Add(windowLead).Before(w.start) && !p.sent.After(w.end) {
				return w.name
			}
		}
		return ""
	}
	byClient := map[string][]*connRec{}
	for _, c := range r.conns {
		byClient[c.client] = append(byClient[c.client], c)
	}
	keys := make([]pubKey, 0, len(r.pubs))
	for k := range r.pubs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].p != keys[j].p {
			return keys[i].p < keys[j].p
		}
		return keys[i].s < keys[j].s
	})
	for _, k := range keys {
		p := r.pubs[k]
		v.published++
		w := inWindow(p)
		if p.acked.IsZero() {
			v.failed++
			if w != "" {
				v.failedInWindow[w]++
			}
			continue
		}
		v.ackedN++
		for client, chans := range subs {
			if !contains(chans, p.ch) {
				continue
			}
			for _, c := range byClient[client] {
				if !c.up.Before(p.sent) || (!c.down.IsZero() && c.down.Before(p.acked.Add(deliveryGrace))) {
					continue
				}
				got := seen[ck{client, c.no}][k]
				switch {
				case w != "":
					if !got {
						v.lostInWindow[w]++
					}
				case got:
					v.checkedPairs++
				default:
					v.checkedPairs++
					v.missing = append(v.missing, fmt.Sprintf("%s#%d lacks %+v on %s (sent %s, acked %s)", client, c.no, k, p.ch,
						p.sent.Format("15:04:05.000"), p.acked.Format("15:04:05.000")))
				}
			}
		}
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstFew(list []string) string {
	if len(list) > 5 {
		return strings.Join(list[:5], "\n") + fmt.Sprintf("\n... %d more", len(list)-5)
	}
	return strings.Join(list, "\n")
}
