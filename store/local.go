package store

import (
	"context"
	"encoding/json"
	"sync"
)

// LocalOptions configures a Local engine.
type LocalOptions struct {
	Store StoreOptions
	// OnMessage receives messages of subscribed channels, synchronously on the publisher's goroutine and in
	// publish order; it must not block. nil drops them.
	OnMessage func(channel string, msg json.RawMessage)
}

// Local is an Engine over a Store in the same process, without a connection: what a single worker uses when no
// store processes or Redis are configured. Its data lives and dies with the process. Safe for concurrent use.
type Local struct {
	dataOps
	store *Store
	opts  LocalOptions

	mu     sync.Mutex
	subs   map[string]struct{}
	closed bool
}

// NewLocal starts an in-process store (with its expiry sweeper) and returns an engine over it.
func NewLocal(opts LocalOptions) *Local {
	l := &Local{store: NewStore(opts.Store), opts: opts, subs: map[string]struct{}{}}
	l.dataOps = dataOps{do: l.exec}
	return l
}

// Store returns the underlying store.
func (l *Local) Store() *Store { return l.store }

func (l *Local) exec(ctx context.Context, req *Request) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil, ErrClientClosed
	}
	return l.store.Exec(req)
}

func (l *Local) deliver(channel string, msg json.RawMessage) {
	if l.opts.OnMessage != nil {
		l.opts.OnMessage(channel, msg)
	}
}

// Publish delivers msg to this engine's subscription of channel, if any.
func (l *Local) Publish(ctx context.Context, channel string, msg json.RawMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.store.Publish(channel, msg)
	return nil
}

// Subscribe subscribes the engine's OnMessage to channel.
func (l *Local) Subscribe(ctx context.Context, channel string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClientClosed
	}
	if _, ok := l.subs[channel]; !ok {
		l.subs[channel] = struct{}{}
		l.store.subscribe(channel, l)
	}
	return nil
}

// Unsubscribe drops the subscription of channel.
func (l *Local) Unsubscribe(ctx context.Context, channel string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.subs[channel]; ok {
		delete(l.subs, channel)
		l.store.unsubscribe(channel, l)
	}
	return nil
}

// Close drops the subscriptions and stops the store's sweeper; later calls fail with ErrClientClosed.
func (l *Local) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	for ch := range l.subs {
		l.store.unsubscribe(ch, l)
	}
	l.subs = nil
	l.mu.Unlock()
	l.store.Close()
	return nil
}

var _ Engine = (*Local)(nil)
