package cluster

import (
	"sync"
	"unsafe"

	"github.com/socketcluster-go/socketcluster/cluster/scproto"
)

// localBroker fans channel messages out to this worker's subscribed
// sockets. Fan-out stays in Go: the message is encoded once and only the
// per-socket cid is appended.
type localBroker struct {
	mu   sync.RWMutex
	subs map[string]map[*conn]struct{}
}

func newLocalBroker() *localBroker { return &localBroker{subs: make(map[string]map[*conn]struct{})} }

func (b *localBroker) subscribe(ch string, c *conn) {
	b.mu.Lock()
	set := b.subs[ch]
	if set == nil {
		set = make(map[*conn]struct{})
		b.subs[ch] = set
	}
	set[c] = struct{}{}
	b.mu.Unlock()
}

func (b *localBroker) unsubscribe(ch string, c *conn) {
	b.mu.Lock()
	if set := b.subs[ch]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(b.subs, ch)
		}
	}
	b.mu.Unlock()
}

// publish delivers {"event":ch,"data":data,"cid":n} to every subscriber.
// dataJSON "" omits data.
func (b *localBroker) publish(ch, dataJSON string) int {
	b.mu.RLock()
	set := b.subs[ch]
	targets := make([]*conn, 0, len(set))
	for c := range set {
		targets = append(targets, c)
	}
	b.mu.RUnlock()
	if len(targets) == 0 {
		return 0
	}
	prefix := scproto.AppendEvent(nil, ch, dataJSON, 0)
	prefix = prefix[:len(prefix)-1] // drop the closing brace; appendDelivery adds cid
	// Every subscriber's message is written into one arena (one allocation per publish, not per delivery);
	// each message is handed to its socket as a string over its part of the arena, which is never written
	// again (a reallocation by append would leave earlier parts in the old array, untouched).
	arena := make([]byte, 0, len(targets)*(len(prefix)+maxCIDSuffix))
	for _, c := range targets {
		start := len(arena)
		arena = c.appendDelivery(arena, prefix)
		c.sendOwned(unsafe.String(&arena[start], len(arena)-start))
	}
	return len(targets)
}
