package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis engine defaults.
const (
	// DefaultRedisPrefix starts every Redis key and channel the engine uses.
	DefaultRedisPrefix = "sc:"
	// DefaultRedisDialTimeout bounds one connection attempt to Redis.
	DefaultRedisDialTimeout = time.Second
	// redisTxRetries is how often an optimistic transaction is retried when another writer touched the document.
	redisTxRetries = 32
)

// Redis engine errors.
var (
	// ErrRedisKey is returned for a key chain the Redis engine cannot place in a document (the empty chain).
	ErrRedisKey = errors.New("store: redis engine needs a non-empty key chain")
	// ErrRedisUnsupported is returned for getAll (the whole keyspace) and run without a baseKey.
	ErrRedisUnsupported = errors.New("store: not supported by the redis engine")
)

// RedisOptions configures a RedisEngine. Zero values mean the documented defaults.
type RedisOptions struct {
	// URL is redis://[user:password@]host:port[/db]. Required.
	URL string
	// Prefix of every key and channel; "" means DefaultRedisPrefix.
	Prefix string
	// DialTimeout; 0 means DefaultRedisDialTimeout.
	DialTimeout time.Duration
	// RunBudget bounds a run/query executed by this engine; 0 means DefaultRunBudget.
	RunBudget time.Duration
	// OnMessage receives messages of subscribed channels in order on one goroutine; it must not block.
	OnMessage func(channel string, msg json.RawMessage)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// RedisEngine keeps nData-shaped data in Redis so that several clusters share sessions, global data and channels.
//
// Data is split into documents: a session (['__iocl','sed',ssid]), an address record
// (['__iocl','gld','__meta','addresses',ip]), the rest of a top-level iocluster area (['__iocl', area]), or any
// other top-level key. Each document is stored as JSON (data plus its expiry table) under
// <prefix>doc:<JSON key chain>; every command loads the document, applies the same data model as the store
// processes and writes it back in an optimistic transaction (WATCH/MULTI). An expiry on a document root also becomes
// the Redis key's absolute expiry; deeper expiries are applied when the document is next touched. Pub/sub maps to
// PUBLISH/SUBSCRIBE on <prefix>ch:<channel>.
type RedisEngine struct {
	dataOps
	opts RedisOptions
	rdb  *redis.Client
	addr string
	log  *slog.Logger

	runMu sync.Mutex
	run   *runner

	ps     *redis.PubSub
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

// NewRedisEngine connects to Redis (lazily: a Redis that is down makes commands fail, not this call, unless the
// URL is malformed).
func NewRedisEngine(opts RedisOptions) (*RedisEngine, error) {
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: redis url: %v", ErrBadArgument, err)
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultRedisPrefix
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultRedisDialTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ro.DialTimeout = opts.DialTimeout
	ro.MaxRetries = 1
	ro.MinRetryBackoff = 10 * time.Millisecond
	ro.MaxRetryBackoff = 100 * time.Millisecond
	e := &RedisEngine{
		opts: opts,
		rdb:  redis.NewClient(ro),
		addr: ro.Addr,
		log:  opts.Logger.With("component", "store-redis", "redis", ro.Addr),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	redisLogOnce.Do(func() { redis.SetLogger(slogRedis{opts.Logger.With("component", "go-redis")}) })
	e.run = newRunner(opts.RunBudget, e.nowSeconds)
	e.dataOps = dataOps{do: e.do}
	e.ps = e.rdb.Subscribe(context.Background())
	go e.receive()
	return e, nil
}

func (e *RedisEngine) nowSeconds() float64 { return float64(e.opts.Now().UnixMicro()) / 1e6 }

// unavailable wraps a Redis error so that callers can test errors.Is(err, ErrUnavailable).
func (e *RedisEngine) unavailable(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: redis %s: %v", ErrUnavailable, e.addr, err)
}

// docRoot is the document a key chain lives in.
func docRoot(k Key) (Key, error) {
	switch {
	case len(k) == 0:
		return nil, ErrRedisKey
	case len(k) >= 5 && k[0] == "__iocl" && k[2] == "__meta" && k[3] == "addresses":
		return k[:5], nil
	case len(k) >= 3 && k[0] == "__iocl" && k[1] == "sed":
		return k[:3], nil
	case len(k) >= 2 && k[0] == "__iocl":
		return k[:2], nil
	}
	return k[:1], nil
}

func (e *RedisEngine) docKey(root Key) string { return e.opts.Prefix + "doc:" + root.String() }

// do executes one data command.
func (e *RedisEngine) do(ctx context.Context, req *Request) (json.RawMessage, error) {
	switch req.Action {
	case ActionGetAll:
		return nil, fmt.Errorf("%w: getAll", ErrRedisUnsupported)
	case ActionRemoveAll:
		return nil, e.removeAll(ctx)
	case ActionExpire, ActionUnexpire:
		groups := map[string][]json.RawMessage{}
		roots := map[string]Key{}
		var order []string
		for _, raw := range req.Keys {
			k, err := ParseKey(raw)
			if err != nil {
				return nil, err
			}
			root, err := docRoot(k)
			if err != nil {
				return nil, err
			}
			rk := e.docKey(root)
			if _, seen := groups[rk]; !seen {
				order = append(order, rk)
				roots[rk] = root
			}
			groups[rk] = append(groups[rk], raw)
		}
		for _, rk := range order {
			r := *req
			r.Keys = groups[rk]
			if _, err := e.update(ctx, rk, roots[rk], &r); err != nil {
				return nil, err
			}
		}
		return nil, nil
	case ActionRun:
		if len(req.BaseKey) == 0 {
			return nil, fmt.Errorf("%w: run without a baseKey", ErrRedisUnsupported)
		}
		base, err := ParseKey(req.BaseKey)
		if err != nil {
			return nil, err
		}
		root, err := docRoot(base)
		if err != nil {
			return nil, err
		}
		if len(base) < len(root) {
			return nil, fmt.Errorf("%w: run baseKey shorter than its document", ErrRedisUnsupported)
		}
		return e.update(ctx, e.docKey(root), root, req)
	}
	k, err := ParseKey(req.Key)
	if err != nil {
		return nil, err
	}
	root, err := docRoot(k)
	if err != nil {
		return nil, err
	}
	if isRead(req.Action) {
		d, err := e.load(ctx, e.rdb, e.docKey(root))
		if err != nil {
			return nil, err
		}
		d.Sweep(e.nowSeconds())
		return execData(d, nil, req, e.nowSeconds())
	}
	return e.update(ctx, e.docKey(root), root, req)
}

type getter interface {
	Get(ctx context.Context, key string) *redis.StringCmd
}

func (e *RedisEngine) load(ctx context.Context, g getter, rk string) (*Data, error) {
	b, err := g.Get(ctx, rk).Bytes()
	d := NewData()
	if errors.Is(err, redis.Nil) {
		return d, nil
	}
	if err != nil {
		return nil, e.unavailable(err)
	}
	if err := d.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("store: redis document %s: %w", rk, err)
	}
	return d, nil
}

// update applies req to the document rk in an optimistic transaction and returns the command's result.
func (e *RedisEngine) update(ctx context.Context, rk string, root Key, req *Request) (json.RawMessage, error) {
	var res json.RawMessage
	txf := func(tx *redis.Tx) error {
		d, err := e.load(ctx, tx, rk)
		if err != nil {
			return err
		}
		now := e.nowSeconds()
		d.Sweep(now)
		var r *runner
		if req.Action == ActionRun {
			e.runMu.Lock()
			defer e.runMu.Unlock()
			r = e.run
		}
		res, err = execData(d, r, req, now)
		if err != nil {
			return err
		}
		b, merr := d.MarshalJSON()
		if merr != nil {
			return merr
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if d.empty() {
				p.Del(ctx, rk)
				return nil
			}
			if at, ok := d.GetExpiry(root); ok {
				p.Set(ctx, rk, b, 0)
				p.PExpireAt(ctx, rk, time.UnixMicro(int64(at*1e6)))
			} else {
				p.Set(ctx, rk, b, 0)
			}
			return nil
		})
		return err
	}
	for i := 0; i < redisTxRetries; i++ {
		err := e.rdb.Watch(ctx, txf, rk)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil && !isDataError(err) {
			return nil, e.unavailable(err)
		}
		return res, err
	}
	return nil, fmt.Errorf("store: redis document %s: too much contention", rk)
}

// isDataError reports whether err came from the data model (not from Redis).
func isDataError(err error) bool {
	for _, s := range []error{ErrBadKey, ErrBadValue, ErrBadArgument, ErrUnknownAction, ErrRunException, ErrUnavailable} {
		if errors.Is(err, s) {
			return true
		}
	}
	return strings.HasPrefix(err.Error(), "store: redis document")
}

// removeAll deletes every document of this engine's prefix.
func (e *RedisEngine) removeAll(ctx context.Context) error {
	iter := e.rdb.Scan(ctx, 0, e.opts.Prefix+"doc:*", 256).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 256 {
			if err := e.rdb.Del(ctx, keys...).Err(); err != nil {
				return e.unavailable(err)
			}
			keys = keys[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return e.unavailable(err)
	}
	if len(keys) > 0 {
		return e.unavailable(e.rdb.Del(ctx, keys...).Err())
	}
	return nil
}

// Publish publishes msg on channel.
func (e *RedisEngine) Publish(ctx context.Context, channel string, msg json.RawMessage) error {
	return e.unavailable(e.rdb.Publish(ctx, e.opts.Prefix+"ch:"+channel, []byte(orNull(msg))).Err())
}

// Subscribe subscribes to channel; go-redis restores subscriptions after reconnects.
func (e *RedisEngine) Subscribe(ctx context.Context, channel string) error {
	return e.unavailable(e.ps.Subscribe(ctx, e.opts.Prefix+"ch:"+channel))
}

// Unsubscribe drops the subscription to channel.
func (e *RedisEngine) Unsubscribe(ctx context.Context, channel string) error {
	return e.unavailable(e.ps.Unsubscribe(ctx, e.opts.Prefix+"ch:"+channel))
}

func (e *RedisEngine) receive() {
	defer close(e.done)
	prefix := e.opts.Prefix + "ch:"
	ch := e.ps.Channel(redis.WithChannelSize(1024))
	for {
		select {
		case <-e.stop:
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			if e.opts.OnMessage != nil && strings.HasPrefix(m.Channel, prefix) {
				e.opts.OnMessage(strings.TrimPrefix(m.Channel, prefix), json.RawMessage(m.Payload))
			}
		}
	}
}

// Ping checks that Redis answers.
func (e *RedisEngine) Ping(ctx context.Context) error { return e.unavailable(e.rdb.Ping(ctx).Err()) }

// Close closes the subscription and the connection pool.
func (e *RedisEngine) Close() error {
	e.closed.Do(func() {
		close(e.stop)
		e.ps.Close()
		<-e.done
		e.rdb.Close()
	})
	return nil
}

var _ Engine = (*RedisEngine)(nil)

// redisLogOnce routes go-redis's process-wide internal log (connection pool retries) to slog at Debug level the
// first time an engine is built: outages are reported through command errors instead.
var redisLogOnce sync.Once

type slogRedis struct{ log *slog.Logger }

func (l slogRedis) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...))
}
