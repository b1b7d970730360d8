package cluster

import (
	"slices"
	"testing"
)

func TestLocalBrokerSubscriptions(t *testing.T) {
	a, b, c := &conn{id: "a"}, &conn{id: "b"}, &conn{id: "c"}
	type op struct {
		sub  bool
		ch   string
		c    *conn
		want []*conn // the channel's subscribers afterwards
	}
	ops := []op{
		{true, "x", a, []*conn{a}},
		{true, "x", b, []*conn{a, b}},
		{true, "x", a, []*conn{a, b}}, // twice: once
		{true, "x", c, []*conn{a, b, c}},
		{false, "x", b, []*conn{a, c}},
		{false, "x", b, []*conn{a, c}}, // not subscribed: no change
		{false, "y", a, nil},           // unknown channel
		{false, "x", a, []*conn{c}},
		{false, "x", c, nil}, // last one: the channel is gone
		{true, "x", b, []*conn{b}},
	}
	br := newLocalBroker()
	for i, o := range ops {
		before := br.subs[o.ch]
		snapshot := slices.Clone(before)
		if o.sub {
			br.subscribe(o.ch, o.c)
		} else {
			br.unsubscribe(o.ch, o.c)
		}
		if got := br.subs[o.ch]; !slices.Equal(got, o.want) {
			t.Fatalf("op %d: subscribers %v, want %v", i, ids(got), ids(o.want))
		}
		if _, ok := br.subs[o.ch]; ok != (len(o.want) > 0) {
			t.Fatalf("op %d: channel entry present %v with %d subscribers", i, ok, len(o.want))
		}
		// copy on write: a slice a publish may be walking is never modified
		if !slices.Equal(before, snapshot) {
			t.Fatalf("op %d: the previous subscriber slice changed from %v to %v", i, ids(snapshot), ids(before))
		}
	}
	if n := br.publish("nobody", `1`); n != 0 {
		t.Fatalf("publish to a channel without subscribers reached %d", n)
	}
}

func ids(cs []*conn) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.id
	}
	return out
}
