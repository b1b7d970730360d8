package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketcluster-go/socketcluster/jsapi"
	"github.com/socketcluster-go/socketcluster/store"
)

// Store plumbing of a worker (spec 3.5-3.8, 4.2-4.5).
const (
	// sessionChannelPrefix + ssid is the engine channel of a session's events.
	sessionChannelPrefix = "__iocl/see/"
	// internalChannelPrefix marks channels clients may not subscribe or publish to.
	internalChannelPrefix = "__iocl/"
	// DefaultStoreCallTimeout bounds the store calls a worker makes for binding sockets and renewing expiries.
	DefaultStoreCallTimeout = 5 * time.Second
	// DefaultSubscribeTimeout bounds how long a client subscribe waits for the engine subscription.
	DefaultSubscribeTimeout = 10 * time.Second
	// DefaultJSDeliveryQueue bounds the messages waiting for worker-side JavaScript listeners (global.on,
	// session.watch); beyond it they are dropped and logged.
	DefaultJSDeliveryQueue = 16384
	// MaxRenewInterval caps the period of re-extending the expiry of the sessions and address records a worker
	// holds sockets for (a third of sessionTimeout, at most this).
	MaxRenewInterval = 60 * time.Second
)

// Key chains of the iocluster layout (spec 4.2, 4.5).
func sessionRoot(ssid string) store.Key { return store.Key{"__iocl", "sed", ssid} }
func sessionSocketKey(ssid, socketID string) store.Key {
	return store.Key{"__iocl", "sed", ssid, "__meta", "sockets", socketID}
}
func addressRoot(ip string) store.Key { return store.Key{"__iocl", "gld", "__meta", "addresses", ip} }
func addressSockets(ip string) store.Key {
	return store.Key{"__iocl", "gld", "__meta", "addresses", ip, "sockets"}
}

// Relay carries the messages of engines built before their worker: pass Relay.Deliver as the engine's
// OnMessage and the Relay in WorkerConfig; NewWorker attaches the worker. Messages before that are dropped.
type Relay struct {
	fn atomic.Pointer[func(channel string, msg json.RawMessage)]
}

// NewRelay returns an unattached relay.
func NewRelay() *Relay { return &Relay{} }

// Deliver hands a message to the attached worker. Any goroutine; never blocks on JavaScript.
func (r *Relay) Deliver(channel string, msg json.RawMessage) {
	if fn := r.fn.Load(); fn != nil {
		(*fn)(channel, msg)
	}
}

func (r *Relay) attach(fn func(string, json.RawMessage)) { r.fn.Store(&fn) }

// chanState is the engine subscription of one channel: refs local interests (sockets, sessions' sockets,
// JavaScript listeners); active once the engine subscription is in place.
type chanState struct {
	refs    int
	active  bool
	waiters []chan error
}

// hub connects a worker to its engines: channel subscriptions by reference count, deliveries to local sockets
// and JavaScript, session and address records.
type hub struct {
	w    *Worker
	log  *slog.Logger
	priv store.Engine
	pub  store.Engine
	own  []store.Engine // engines the worker built and closes

	mu       sync.Mutex
	chans    map[string]*chanState
	dirty    map[string]struct{}
	sessions map[string][]*conn // local sockets by session id (usually one: a slice, not a map per session)
	addrs    map[string]int
	jsChan   map[string]int // JavaScript global.on interest
	jsSess   map[string]int // JavaScript session.watch interest

	wake    chan struct{}
	jsq     chan func()
	stop    chan struct{}
	wg      sync.WaitGroup
	dropped atomic.Int64
}

func newHub(w *Worker, cfg WorkerConfig) *hub {
	h := &hub{
		w:        w,
		log:      w.log,
		priv:     cfg.Private,
		pub:      cfg.Public,
		chans:    map[string]*chanState{},
		dirty:    map[string]struct{}{},
		sessions: map[string][]*conn{},
		addrs:    map[string]int{},
		jsChan:   map[string]int{},
		jsSess:   map[string]int{},
		wake:     make(chan struct{}, 1),
		jsq:      make(chan func(), DefaultJSDeliveryQueue),
		stop:     make(chan struct{}),
	}
	if h.priv == nil {
		l := store.NewLocal(store.LocalOptions{OnMessage: h.deliver})
		h.priv = l
		h.own = append(h.own, l)
	} else if cfg.Relay != nil {
		cfg.Relay.attach(h.deliver)
	}
	if h.pub == nil {
		h.pub = h.priv
	}
	return h
}

// start runs the subscription reconciler, the JavaScript delivery pump and the expiry renewal until close.
func (h *hub) start() {
	h.wg.Add(3)
	go h.reconcile()
	go h.pumpJS()
	go h.renew()
}

func (h *hub) close() {
	select {
	case <-h.stop:
		return
	default:
	}
	close(h.stop)
	h.wg.Wait()
	for _, e := range h.own {
		_ = e.Close()
	}
}

func (h *hub) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), DefaultStoreCallTimeout)
}

// ---------------------------------------------------------------- channels

// acquire adds one local interest in channel and waits until the engine subscription is in place. On error the
// interest is dropped again.
func (h *hub) acquire(ctx context.Context, channel string) error {
	h.mu.Lock()
	st := h.chans[channel]
	if st == nil {
		st = &chanState{}
		h.chans[channel] = st
	}
	st.refs++
	if st.active {
		h.mu.Unlock()
		return nil
	}
	wait := make(chan error, 1)
	st.waiters = append(st.waiters, wait)
	h.markDirtyLocked(channel)
	h.mu.Unlock()
	var err error
	select {
	case err = <-wait:
	case <-ctx.Done():
		err = ctx.Err()
	case <-h.stop:
		err = ErrWorkerStopped
	}
	if err != nil {
		h.release(channel)
	}
	return err
}

// release drops one local interest; the engine subscription ends with the last.
func (h *hub) release(channel string) {
	h.mu.Lock()
	if st := h.chans[channel]; st != nil && st.refs > 0 {
		st.refs--
		if st.refs == 0 {
			h.markDirtyLocked(channel)
		}
	}
	h.mu.Unlock()
}

func (h *hub) markDirtyLocked(channel string) {
	h.dirty[channel] = struct{}{}
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// reconcile brings the engine subscriptions in line with the reference counts, one channel at a time.
func (h *hub) reconcile() {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			h.failWaiters(ErrWorkerStopped)
			return
		case <-h.wake:
		}
		for {
			h.mu.Lock()
			var ch string
			found := false
			for c := range h.dirty {
				ch, found = c, true
				delete(h.dirty, c)
				break
			}
			if !found {
				h.mu.Unlock()
				break
			}
			st := h.chans[ch]
			if st == nil {
				h.mu.Unlock()
				continue
			}
			want, have := st.refs > 0, st.active
			h.mu.Unlock()
			switch {
			case want && !have:
				ctx, cancel := h.ctx()
				err := h.priv.Subscribe(ctx, ch)
				cancel()
				h.mu.Lock()
				if err == nil {
					st.active = true
				} else {
					err = fmt.Errorf("subscribe %q: %w", ch, err)
					h.log.Warn("channel subscription failed", "channel", ch, "err", err)
				}
				ws := st.waiters
				st.waiters = nil
				if st.refs == 0 {
					h.markDirtyLocked(ch)
				}
				h.mu.Unlock()
				for _, w := range ws {
					w <- err
				}
			case !want && have:
				ctx, cancel := h.ctx()
				err := h.priv.Unsubscribe(ctx, ch)
				cancel()
				if err != nil {
					h.log.Debug("channel unsubscribe failed", "channel", ch, "err", err)
				}
				h.mu.Lock()
				st.active = false
				if st.refs > 0 {
					h.markDirtyLocked(ch)
				} else if len(st.waiters) == 0 {
					delete(h.chans, ch)
				}
				h.mu.Unlock()
			case !want && !have:
				h.mu.Lock()
				if st.refs == 0 && len(st.waiters) == 0 {
					delete(h.chans, ch)
				}
				h.mu.Unlock()
			}
			select {
			case <-h.stop:
				h.failWaiters(ErrWorkerStopped)
				return
			default:
			}
		}
	}
}

func (h *hub) failWaiters(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, st := range h.chans {
		for _, w := range st.waiters {
			w <- err
		}
		st.waiters = nil
	}
}

// subscribed reports whether the engine subscription of channel is in place (for tests).
func (h *hub) subscribed(channel string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.chans[channel]
	return st != nil && st.active
}

// channelEnvelope is what travels on a user channel: d is the data (absent for undefined).
type channelEnvelope struct {
	D json.RawMessage `json:"d,omitempty"`
}

// sessionEnvelope is a session event: e event, d data, x the socket to leave out (transmit).
type sessionEnvelope struct {
	E string          `json:"e"`
	D json.RawMessage `json:"d,omitempty"`
	X string          `json:"x,omitempty"`
}

// publish publishes dataJSON ("" = undefined) on a user channel through the engine.
func (h *hub) publish(ctx context.Context, channel, dataJSON string) error {
	msg, err := json.Marshal(channelEnvelope{D: rawOrNil(dataJSON)})
	if err != nil {
		return err
	}
	return h.priv.Publish(ctx, channel, msg)
}

// sessionEmit sends event to every socket of session ssid on every worker, but exclude.
func (h *hub) sessionEmit(ctx context.Context, ssid, event, dataJSON, exclude string) error {
	msg, err := json.Marshal(sessionEnvelope{E: event, D: rawOrNil(dataJSON), X: exclude})
	if err != nil {
		return err
	}
	return h.priv.Publish(ctx, sessionChannelPrefix+ssid, msg)
}

func rawOrNil(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// deliver is the engines' OnMessage: local sockets are served at once (Send never blocks); JavaScript listeners
// through the bounded queue.
func (h *hub) deliver(channel string, msg json.RawMessage) {
	if len(channel) > len(sessionChannelPrefix) && channel[:len(sessionChannelPrefix)] == sessionChannelPrefix {
		ssid := channel[len(sessionChannelPrefix):]
		var env sessionEnvelope
		if json.Unmarshal(msg, &env) != nil || env.E == "" {
			return
		}
		data := string(env.D)
		h.mu.Lock()
		set := h.sessions[ssid]
		targets := make([]*conn, 0, len(set))
		for _, c := range set {
			if c.id != env.X {
				targets = append(targets, c)
			}
		}
		js := h.jsSess[ssid] > 0
		h.mu.Unlock()
		for _, c := range targets {
			c.Emit(env.E, data)
		}
		if js {
			h.toJS(func() { _ = h.w.js.DeliverSession(ssid, env.E, data) })
		}
		return
	}
	var env channelEnvelope
	if json.Unmarshal(msg, &env) != nil {
		return
	}
	data := string(env.D)
	h.w.broker.publish(channel, data)
	h.mu.Lock()
	js := h.jsChan[channel] > 0
	h.mu.Unlock()
	if js {
		h.toJS(func() { _ = h.w.js.DeliverChannel(channel, data) })
	}
}

func (h *hub) toJS(fn func()) {
	select {
	case h.jsq <- fn:
	default:
		if h.dropped.Add(1)%1000 == 1 {
			h.log.Warn("worker-side listener queue full: messages dropped", "queue", DefaultJSDeliveryQueue, "dropped", h.dropped.Load())
		}
	}
}

func (h *hub) pumpJS() {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		case fn := <-h.jsq:
			fn()
		}
	}
}

// ---------------------------------------------------------------- sessions and addresses

// sessionExists reports whether the engine holds a session record for ssid (the cluster issued it).
func (h *hub) sessionExists(ssid string) bool {
	ctx, cancel := h.ctx()
	defer cancel()
	ok, err := h.priv.HasKey(ctx, sessionRoot(ssid))
	if err != nil {
		h.log.Debug("session lookup failed", "err", err)
	}
	return ok && err == nil
}

// issueSession records a new session id for a page request.
func (h *hub) issueSession(ssid string) {
	ctx, cancel := h.ctx()
	defer cancel()
	at := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if _, err := h.priv.Set(ctx, append(sessionRoot(ssid), "__meta", "issued"), json.RawMessage(at), false); err != nil {
		h.log.Debug("session record failed", "err", err)
		return
	}
	_ = h.priv.Expire(ctx, []store.Key{sessionRoot(ssid)}, h.w.opts.SessionTimeout.Seconds())
}

// Errors of the store plumbing.
var (
	// ErrAddressLimit is the bind failure for addressSocketLimit.
	ErrAddressLimit = errors.New("Reached connection limit for the address")
	// ErrWorkerStopped is returned to store waits cut short by the worker stopping.
	ErrWorkerStopped = errors.New("worker stopped")
)

// bindAddress applies addressSocketLimit cluster-wide (spec 4.5).
func (h *hub) bindAddress(c *conn) error {
	lim := h.w.opts.AddressSocketLimit
	if lim <= 0 {
		return nil
	}
	ctx, cancel := h.ctx()
	defer cancel()
	n, err := h.priv.Count(ctx, addressSockets(c.limitAddr))
	if err != nil {
		return fmt.Errorf("address record unavailable: %w", err)
	}
	if n >= lim {
		return fmt.Errorf("%w %s", ErrAddressLimit, c.limitAddr)
	}
	if _, err := h.priv.Set(ctx, append(addressSockets(c.limitAddr), c.id), json.RawMessage("1"), false); err != nil {
		return fmt.Errorf("address record unavailable: %w", err)
	}
	_ = h.priv.Expire(ctx, []store.Key{addressRoot(c.limitAddr)}, h.w.opts.ConnectTimeout.Seconds())
	h.mu.Lock()
	h.addrs[c.limitAddr]++
	h.mu.Unlock()
	c.addrBound = true
	return nil
}

// bindSession records the socket in its session, renews the session's expiry and subscribes the worker to the
// session's event channel.
func (h *hub) bindSession(c *conn) {
	ctx, cancel := h.ctx()
	defer cancel()
	if _, err := h.priv.Set(ctx, sessionSocketKey(c.ssid, c.id), json.RawMessage("1"), false); err != nil {
		c.log.Warn("session record failed", "err", err)
	} else {
		_ = h.priv.Expire(ctx, []store.Key{sessionRoot(c.ssid)}, h.w.opts.SessionTimeout.Seconds())
	}
	h.mu.Lock()
	h.sessions[c.ssid] = append(h.sessions[c.ssid], c)
	h.mu.Unlock()
	if err := h.acquire(ctx, sessionChannelPrefix+c.ssid); err != nil {
		c.log.Warn("session channel unavailable", "err", err)
	} else {
		c.sessionSub = true
	}
}

// unbind undoes bindAddress and bindSession. It reports whether c was the last local socket of its session.
func (h *hub) unbind(c *conn) (last bool) {
	h.mu.Lock()
	set := h.sessions[c.ssid]
	for i, x := range set {
		if x != c {
			continue
		}
		if len(set) == 1 {
			delete(h.sessions, c.ssid)
			last = true
			break
		}
		// deliver copies its targets under h.mu, so the slice may change in place
		n := len(set) - 1
		set[i] = set[n]
		set[n] = nil
		h.sessions[c.ssid] = set[:n]
		break
	}
	if c.addrBound {
		decCount(h.addrs, c.limitAddr)
	}
	h.mu.Unlock()
	if c.sessionSub {
		h.release(sessionChannelPrefix + c.ssid)
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		ctx, cancel := h.ctx()
		defer cancel()
		if _, err := h.priv.Remove(ctx, sessionSocketKey(c.ssid, c.id), false); err != nil {
			h.log.Debug("session record removal failed", "err", err)
		}
		if last {
			_ = h.priv.Expire(ctx, []store.Key{sessionRoot(c.ssid)}, h.w.opts.SessionTimeout.Seconds())
		}
		if c.addrBound {
			_, _ = h.priv.Remove(ctx, append(addressSockets(c.limitAddr), c.id), false)
		}
	}()
	return last
}

// renewInterval is a third of sessionTimeout, between 1 s and MaxRenewInterval.
func (h *hub) renewInterval() time.Duration {
	d := h.w.opts.SessionTimeout / 3
	if d > MaxRenewInterval {
		d = MaxRenewInterval
	}
	if d < time.Second {
		d = time.Second
	}
	return d
}

// renew re-extends the expiry of every session and address record this worker holds sockets for.
func (h *hub) renew() {
	defer h.wg.Done()
	t := time.NewTicker(h.renewInterval())
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		keys := make([]store.Key, 0, len(h.sessions)+len(h.addrs))
		for ssid := range h.sessions {
			keys = append(keys, sessionRoot(ssid))
		}
		for ip := range h.addrs {
			keys = append(keys, addressRoot(ip))
		}
		h.mu.Unlock()
		if len(keys) == 0 {
			continue
		}
		ctx, cancel := h.ctx()
		if err := h.priv.Expire(ctx, keys, h.w.opts.SessionTimeout.Seconds()); err != nil {
			h.log.Warn("expiry renewal failed", "err", err)
		}
		cancel()
	}
}

// ---------------------------------------------------------------- data commands for JavaScript

// data runs one data command on the private (sessions) or public (global) engine; index >= 0 picks one store of
// a sharded public engine (global.setMapper).
func (h *hub) data(ctx context.Context, public bool, index int, req *store.Request, mapIndex string) (json.RawMessage, error) {
	e := h.priv
	if public {
		e = h.pub
		if index >= 0 {
			if c, ok := e.(*store.Cluster); ok {
				cl := c.Clients()
				if index >= len(cl) {
					return nil, fmt.Errorf("%w: mapper chose store %d of %d", store.ErrBadArgument, index, len(cl))
				}
				e = cl[index]
			}
		}
	}
	return engineDo(ctx, e, req, mapIndex)
}

// storeCount is the number of stores behind the public engine (the mapper's clientIds).
func (h *hub) storeCount() int {
	if c, ok := h.pub.(*store.Cluster); ok {
		return len(c.Clients())
	}
	return 1
}

// engineDo dispatches a store.Request to the Engine method of its action.
func engineDo(ctx context.Context, e store.Engine, req *store.Request, mapIndex string) (json.RawMessage, error) {
	key := func() (store.Key, error) {
		if len(req.Key) == 0 {
			return store.Key{}, nil
		}
		return store.ParseKey(req.Key)
	}
	keys := func() ([]store.Key, error) {
		out := make([]store.Key, 0, len(req.Keys))
		for _, raw := range req.Keys {
			k, err := store.ParseKey(raw)
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		return out, nil
	}
	switch req.Action {
	case store.ActionGetAll:
		return e.GetAll(ctx)
	case store.ActionRemoveAll:
		return nil, e.RemoveAll(ctx)
	case store.ActionExpire, store.ActionUnexpire:
		ks, err := keys()
		if err != nil {
			return nil, err
		}
		if req.Action == store.ActionExpire {
			return nil, e.Expire(ctx, ks, req.Seconds)
		}
		return nil, e.Unexpire(ctx, ks)
	case store.ActionRun:
		opts := store.RunOptions{Data: req.Data, MapIndex: mapIndex}
		if len(req.BaseKey) > 0 {
			k, err := store.ParseKey(req.BaseKey)
			if err != nil {
				return nil, err
			}
			opts.BaseKey = k
		}
		return e.Run(ctx, req.Source, opts)
	}
	k, err := key()
	if err != nil {
		return nil, err
	}
	switch req.Action {
	case store.ActionSet:
		return e.Set(ctx, k, req.Value, req.GetValue)
	case store.ActionAdd:
		return e.Add(ctx, k, req.Value, req.GetValue)
	case store.ActionConcat:
		return e.Concat(ctx, k, req.Value, req.GetValue)
	case store.ActionGet:
		return e.Get(ctx, k)
	case store.ActionGetRange:
		return e.GetRange(ctx, k, req.From, req.To)
	case store.ActionCount:
		n, err := e.Count(ctx, k)
		if err != nil {
			return nil, err
		}
		return json.RawMessage(strconv.Itoa(n)), nil
	case store.ActionHasKey:
		ok, err := e.HasKey(ctx, k)
		if err != nil {
			return nil, err
		}
		return json.RawMessage(strconv.FormatBool(ok)), nil
	case store.ActionRemove:
		return e.Remove(ctx, k, req.GetValue)
	case store.ActionRemoveRange:
		return e.RemoveRange(ctx, k, req.From, req.To, req.GetValue)
	case store.ActionPop:
		return e.Pop(ctx, k, req.GetValue)
	case store.ActionGetExpiry:
		at, ok, err := e.GetExpiry(ctx, k)
		if err != nil || !ok {
			return nil, err
		}
		return json.Marshal(at)
	}
	return nil, fmt.Errorf("%w: %q", store.ErrUnknownAction, req.Action)
}

// backend is the hub as jsapi sees it.
type backend struct{ h *hub }

var _ jsapi.Backend = backend{}

func (b backend) Data(ctx context.Context, public bool, index int, req *store.Request, mapIndex string) (json.RawMessage, error) {
	return b.h.data(ctx, public, index, req, mapIndex)
}
func (b backend) StoreCount() int { return b.h.storeCount() }
func (b backend) Publish(ctx context.Context, channel, dataJSON string) error {
	return b.h.publish(ctx, channel, dataJSON)
}
func (b backend) SessionEmit(ctx context.Context, ssid, event, dataJSON, exclude string) error {
	return b.h.sessionEmit(ctx, ssid, event, dataJSON, exclude)
}
func (b backend) Listen(ctx context.Context, channel string) error {
	return b.h.acquireJS(ctx, b.h.jsChan, channel, channel)
}
func (b backend) Unlisten(channel string) { b.h.releaseJS(b.h.jsChan, channel, channel) }
func (b backend) WatchSession(ctx context.Context, ssid string) error {
	return b.h.acquireJS(ctx, b.h.jsSess, ssid, sessionChannelPrefix+ssid)
}
func (b backend) UnwatchSession(ssid string) {
	b.h.releaseJS(b.h.jsSess, ssid, sessionChannelPrefix+ssid)
}

// acquireJS counts one JS interest in k (in m, jsChan or jsSess) and acquires the hub channel behind it, taking
// the count back if the acquire fails.
func (h *hub) acquireJS(ctx context.Context, m map[string]int, k, channel string) error {
	h.mu.Lock()
	m[k]++
	h.mu.Unlock()
	if err := h.acquire(ctx, channel); err != nil {
		h.mu.Lock()
		decCount(m, k)
		h.mu.Unlock()
		return err
	}
	return nil
}

// releaseJS drops one JS interest in k and releases the hub channel if there was one.
func (h *hub) releaseJS(m map[string]int, k, channel string) {
	h.mu.Lock()
	_, ok := m[k]
	decCount(m, k)
	h.mu.Unlock()
	if ok {
		h.release(channel)
	}
}

// decCount takes one from the count of k in m, deleting it at zero (callers hold h.mu).
func decCount(m map[string]int, k string) {
	if n := m[k]; n <= 1 {
		delete(m, k)
	} else {
		m[k] = n - 1
	}
}
