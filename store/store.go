package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// DefaultExpiryAccuracy is how often the store sweeps expired keys (SocketCluster starts nData with 5000 ms).
const DefaultExpiryAccuracy = 5 * time.Second

// StoreOptions configures a Store. Zero values mean the documented defaults.
type StoreOptions struct {
	// ExpiryAccuracy is the sweep interval; 0 means DefaultExpiryAccuracy.
	ExpiryAccuracy time.Duration
	// RunBudget bounds one run/query; 0 means DefaultRunBudget.
	RunBudget time.Duration
	// Now returns the current time; nil means time.Now. Tests inject a clock.
	Now func() time.Time
}

// subscriber receives published messages. deliver must not block.
type subscriber interface {
	deliver(channel string, msg json.RawMessage)
}

// Store is one nData store: the data model guarded by a lock, the run/query VM, expiry sweeps and a pub/sub hub.
// All methods are safe for concurrent use.
type Store struct {
	opts StoreOptions

	mu   sync.Mutex // guards data and run
	data *Data
	run  *runner

	subMu sync.RWMutex
	// subs lists each channel's subscribers (store connections and in-process engines: a handful per channel, so
	// a slice, not a map per channel).
	subs map[string][]subscriber

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// NewStore returns a store and starts its expiry sweeper; Close stops it.
func NewStore(opts StoreOptions) *Store {
	defaultIfUnset(&opts.ExpiryAccuracy, DefaultExpiryAccuracy)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{
		opts: opts,
		data: NewData(),
		subs: map[string][]subscriber{},
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	s.run = newRunner(opts.RunBudget, s.nowSeconds)
	go s.sweeper()
	return s
}

func (s *Store) nowSeconds() float64 {
	return float64(s.opts.Now().UnixMicro()) / 1e6
}

func (s *Store) sweeper() {
	defer close(s.done)
	t := time.NewTicker(s.opts.ExpiryAccuracy)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.Sweep()
		}
	}
}

// Sweep removes the keys whose expiry has passed and returns how many expired.
func (s *Store) Sweep() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.Sweep(s.nowSeconds())
}

// Close stops the sweeper. Data stays readable.
func (s *Store) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
}

// Exec runs one data command (every action except init and pub/sub) and returns its JSON result (nil: undefined).
func (s *Store) Exec(req *Request) (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return execData(s.data, s.run, req, s.nowSeconds())
}

// execData dispatches a data command to d.
func execData(d *Data, r *runner, req *Request, now float64) (json.RawMessage, error) {
	switch req.Action {
	case ActionRemoveAll:
		d.RemoveAll()
		return nil, nil
	case ActionGetAll:
		return d.GetAll(), nil
	case ActionExpire, ActionUnexpire:
		ks, err := parseKeys(req.Keys)
		if err != nil {
			return nil, err
		}
		if req.Action == ActionUnexpire {
			d.Unexpire(ks)
			return nil, nil
		}
		return nil, d.Expire(ks, req.Seconds, now)
	case ActionRun:
		if r == nil {
			return nil, fmt.Errorf("%w: run is not available here", ErrBadArgument)
		}
		var base Key
		if len(req.BaseKey) > 0 {
			k, err := ParseKey(req.BaseKey)
			if err != nil {
				return nil, err
			}
			base = k
		}
		return r.run(d, req.Source, base, req.Data)
	}
	key, err := ParseKey(req.Key)
	if err != nil {
		return nil, err
	}
	var res json.RawMessage
	switch req.Action {
	case ActionSet:
		res, err = d.Set(key, orNull(req.Value))
	case ActionAdd:
		res, err = d.Add(key, orNull(req.Value))
	case ActionConcat:
		res, err = d.Concat(key, orNull(req.Value))
	case ActionGet:
		return d.Get(key), nil
	case ActionGetRange:
		return d.GetRange(key, req.From, req.To)
	case ActionCount:
		return json.RawMessage(strconv.Itoa(d.Count(key))), nil
	case ActionHasKey:
		if d.HasKey(key) {
			return json.RawMessage("true"), nil
		}
		return json.RawMessage("false"), nil
	case ActionRemove:
		res = d.Remove(key)
	case ActionRemoveRange:
		res, err = d.RemoveRange(key, req.From, req.To)
	case ActionPop:
		res = d.Pop(key)
	case ActionGetExpiry:
		if at, ok := d.GetExpiry(key); ok {
			return json.Marshal(at)
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownAction, truncate(req.Action))
	}
	if err != nil || !req.GetValue {
		return nil, err
	}
	return res, nil
}

// subscribe adds sub to channel.
func (s *Store) subscribe(channel string, sub subscriber) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	list := s.subs[channel]
	for _, x := range list {
		if x == sub {
			return
		}
	}
	s.subs[channel] = append(list, sub)
}

// unsubscribe removes sub from channel.
func (s *Store) unsubscribe(channel string, sub subscriber) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	list := s.subs[channel]
	for i, x := range list {
		if x != sub {
			continue
		}
		if len(list) == 1 {
			delete(s.subs, channel)
			return
		}
		last := len(list) - 1
		list[i] = list[last]
		list[last] = nil
		s.subs[channel] = list[:last]
		return
	}
}

// Publish delivers msg to every subscriber of channel and returns how many there were. Messages of one
// publisher reach each subscriber in publish order.
func (s *Store) Publish(channel string, msg json.RawMessage) int {
	s.subMu.RLock()
	defer s.subMu.RUnlock()
	list := s.subs[channel]
	for _, sub := range list {
		sub.deliver(channel, msg)
	}
	return len(list)
}

// defaultIfUnset sets an option left unset (zero or negative) to its default.
func defaultIfUnset[T ~int | ~int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
