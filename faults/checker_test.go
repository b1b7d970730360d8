package faults

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestChecker feeds the checker hand-made records and expects it to name each kind of defect, so that the fault
// suite's verdict cannot pass by construction.
func TestChecker(t *testing.T) {
	subs := map[string][]string{"a": {"ch0"}, "b": {"ch1"}}
	cases := []struct {
		name string
		feed func(r *recorder, c map[string]*connRec)
		want string // the verdict field expected non-empty; "" for a clean record
	}{
		{"clean", func(r *recorder, c map[string]*connRec) {
			pub(r, "p/1", 1, "ch0", true)
			got(r, "a", 1, "ch0", "p/1", 1)
		}, ""},
		{"phantom", func(r *recorder, c map[string]*connRec) {
			got(r, "a", 1, "ch0", "p/1", 7)
		}, "phantoms"},
		{"published on another channel", func(r *recorder, c map[string]*connRec) {
			pub(r, "p/1", 1, "ch1", true)
			got(r, "b", 1, "ch1", "p/1", 1)
			got(r, "a", 1, "ch0", "p/1", 1)
		}, "phantoms"},
		{"duplicate", func(r *recorder, c map[string]*connRec) {
			pub(r, "p/1", 1, "ch0", true)
			got(r, "a", 1, "ch0", "p/1", 1)
			got(r, "a", 1, "ch0", "p/1", 1)
		}, "duplicates"},
		{"reorder", func(r *recorder, c map[string]*connRec) {
			pub(r, "p/1", 1, "ch0", true)
			pub(r, "p/1", 2, "ch0", true)
			got(r, "a", 1, "ch0", "p/1", 2)
			got(r, "a", 1, "ch0", "p/1", 1)
		}, "reorders"},
		{"leak", func(r *recorder, c map[string]*connRec) {
			pub(r, "p/1", 1, "ch1", true)
			got(r, "a", 1, "ch1", "p/1", 1)
			got(r, "b", 1, "ch1", "p/1", 1)
		}, "leaks"},
		{"missing", func(r *recorder, c map[string]*connRec) {
			pub(r, "p/1", 1, "ch0", true)
		}, "missing"},
		{"unacked may be missing", func(r *recorder, c map[string]*connRec) {
			pub(r, "p/1", 1, "ch0", false)
		}, ""},
		{"disconnect", func(r *recorder, c map[string]*connRec) {
			r.down(c["b"])
		}, "disconnects"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder()
			conns := map[string]*connRec{"a": r.up("a", 1), "b": r.up("b", 1)}
			conns["a"].up = conns["a"].up.Add(-time.Second)
			conns["b"].up = conns["b"].up.Add(-time.Second)
			tc.feed(r, conns)
			v := r.check(subs, nil, time.Now().Add(time.Hour))
			found := map[string]int{"phantoms": len(v.phantoms), "duplicates": len(v.duplicates), "reorders": len(v.reorders),
				"leaks": len(v.leaks), "missing": len(v.missing), "disconnects": len(v.disconnects), "stray": len(v.stray)}
			for field, n := range found {
				if (field == tc.want) != (n > 0) {
					t.Errorf("%s: %d, want %s only; verdict %+v", field, n, orNone(tc.want), v)
				}
			}
		})
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return strings.TrimSpace(s)
}

func pub(r *recorder, p string, s int, ch string, acked bool) {
	k := pubKey{p, s}
	r.sent(k, ch)
	if acked {
		r.acked(k)
	}
}

func got(r *recorder, client string, conn int, event, p string, s int) {
	b, _ := json.Marshal(payload{C: event, P: p, S: s})
	r.deliver(client, conn, event, b)
}
