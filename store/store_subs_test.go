package store

import (
	"encoding/json"
	"testing"
)

// countSub counts the messages it gets.
type countSub struct{ n int }

func (c *countSub) deliver(string, json.RawMessage) { c.n++ }

// TestStoreSubscriberLists drives subscribe/unsubscribe/Publish through duplicates, removal from the middle and
// the last subscriber leaving (the channel entry goes away).
func TestStoreSubscriberLists(t *testing.T) {
	s := NewStore(StoreOptions{})
	defer s.Close()
	a, b, c := &countSub{}, &countSub{}, &countSub{}
	steps := []struct {
		op      string // sub, unsub
		sub     *countSub
		publish int // subscribers Publish reports afterwards
	}{
		{"sub", a, 1},
		{"sub", a, 1}, // a duplicate is ignored
		{"sub", b, 2},
		{"sub", c, 3},
		{"unsub", b, 2}, // from the middle
		{"unsub", b, 2}, // not subscribed: nothing
		{"unsub", a, 1},
		{"unsub", c, 0},
	}
	for i, st := range steps {
		if st.op == "sub" {
			s.subscribe("ch", st.sub)
		} else {
			s.unsubscribe("ch", st.sub)
		}
		if got := s.Publish("ch", json.RawMessage(`1`)); got != st.publish {
			t.Fatalf("step %d (%s): Publish reached %d, want %d", i, st.op, got, st.publish)
		}
	}
	if a.n != 6 || b.n != 2 || c.n != 4 {
		t.Errorf("deliveries a=%d b=%d c=%d, want 6 2 4", a.n, b.n, c.n)
	}
	s.subMu.RLock()
	_, ok := s.subs["ch"]
	s.subMu.RUnlock()
	if ok {
		t.Error("the channel entry outlived its last subscriber")
	}
}
