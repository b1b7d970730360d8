package cluster

import (
	"sync"
	"unsafe"

	"github.com/socketcluster-go/socketcluster/cluster/scproto"
)

// localBroker fans channel messages out to this worker's subscribed
// sockets. Fan-out stays in Go: the message is encoded once and only the
// per-socket cid is appended.
//
// Each channel's subscribers are kept as an immutable slice replaced on every subscribe and unsubscribe (copy on
// write): a publish takes the current slice under the read lock and walks it without copying or allocating.
type localBroker struct {
	mu   sync.RWMutex
	subs map[string][]*conn
}

func newLocalBroker() *localBroker { return &localBroker{subs: make(map[string][]*conn)} }

func (b *localBroker) subscribe(ch string, c *conn) {
	b.mu.Lock()
	old := b.subs[ch]
	for _, s := range old {
		if s == c {
			b.mu.Unlock()
			return
		}
	}
	next := make([]*conn, len(old), len(old)+1)
	copy(next, old)
	b.subs[ch] = append(next, c)
	b.mu.Unlock()
}

func (b *localBroker) unsubscribe(ch string, c *conn) {
	b.mu.Lock()
	old := b.subs[ch]
	for i, s := range old {
		if s != c {
			continue
		}
		if len(old) == 1 {
			delete(b.subs, ch)
			break
		}
		next := make([]*conn, 0, len(old)-1)
		next = append(next, old[:i]...)
		b.subs[ch] = append(next, old[i+1:]...)
		break
	}
	b.mu.Unlock()
}

// publish delivers {"event":ch,"data":data,"cid":n} to every subscriber.
// dataJSON "" omits data.
func (b *localBroker) publish(ch, dataJSON string) int {
	b.mu.RLock()
	targets := b.subs[ch] // never modified in place
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
	sent, bytes := 0, 0
	for _, c := range targets {
		start := len(arena)
		arena = c.appendDelivery(arena, prefix)
		msg := unsafe.String(&arena[start], len(arena)-start)
		if c.sock.Send(msg) == nil {
			sent++
			bytes += len(msg)
		}
	}
	// counted once per publish, not per delivery (as sendOwned would)
	if sent > 0 {
		w := targets[0].w
		w.stats.messagesOut.Add(int64(sent))
		w.metrics.BytesOut.Add(float64(bytes))
	}
	return len(targets)
}
