package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// RunOptions are the optional arguments of Run (nData run/query).
type RunOptions struct {
	// BaseKey makes the function's DataMap the sub-map at this key (iocluster query uses the session/global root).
	BaseKey Key
	// Data is a JSON object; each property is declared as a variable the function can read.
	Data json.RawMessage
	// MapIndex chooses the store of a Cluster (hash of it); empty means store 0.
	MapIndex string
}

// Engine is what workers use for session data, global data and pub/sub: one store (Client), a sharded set of
// stores (Cluster) or Redis (RedisEngine). Values are JSON; a nil json.RawMessage result means undefined. Messages
// of subscribed channels go to the handler given when the engine was built.
type Engine interface {
	Set(ctx context.Context, key Key, value json.RawMessage, getValue bool) (json.RawMessage, error)
	Add(ctx context.Context, key Key, value json.RawMessage, getValue bool) (json.RawMessage, error)
	Concat(ctx context.Context, key Key, value json.RawMessage, getValue bool) (json.RawMessage, error)
	Get(ctx context.Context, key Key) (json.RawMessage, error)
	GetRange(ctx context.Context, key Key, from, to json.RawMessage) (json.RawMessage, error)
	GetAll(ctx context.Context) (json.RawMessage, error)
	Count(ctx context.Context, key Key) (int, error)
	HasKey(ctx context.Context, key Key) (bool, error)
	Remove(ctx context.Context, key Key, getValue bool) (json.RawMessage, error)
	RemoveRange(ctx context.Context, key Key, from, to json.RawMessage, getValue bool) (json.RawMessage, error)
	RemoveAll(ctx context.Context) error
	Pop(ctx context.Context, key Key, getValue bool) (json.RawMessage, error)
	Expire(ctx context.Context, keys []Key, seconds float64) error
	Unexpire(ctx context.Context, keys []Key) error
	// GetExpiry returns the absolute expiry of key in epoch seconds; ok is false when it has none.
	GetExpiry(ctx context.Context, key Key) (at float64, ok bool, err error)
	// Run executes the source of a function fn(DataMap, dataExpirer, eventMap) inside the store.
	Run(ctx context.Context, source string, opts RunOptions) (json.RawMessage, error)

	Publish(ctx context.Context, channel string, msg json.RawMessage) error
	Subscribe(ctx context.Context, channel string) error
	Unsubscribe(ctx context.Context, channel string) error
	Close() error
}

// doFunc executes one command.
type doFunc func(ctx context.Context, req *Request) (json.RawMessage, error)

// dataOps implements the data methods of Engine over a doFunc.
type dataOps struct{ do doFunc }

func keyJSON(k Key) json.RawMessage {
	if k == nil {
		k = Key{}
	}
	b, _ := json.Marshal([]string(k))
	return b
}

func keysJSON(ks []Key) []json.RawMessage {
	out := make([]json.RawMessage, len(ks))
	for i, k := range ks {
		out[i] = keyJSON(k)
	}
	return out
}

func (o dataOps) Set(ctx context.Context, key Key, value json.RawMessage, getValue bool) (json.RawMessage, error) {
	return o.do(ctx, &Request{Action: ActionSet, Key: keyJSON(key), Value: value, GetValue: getValue})
}

func (o dataOps) Add(ctx context.Context, key Key, value json.RawMessage, getValue bool) (json.RawMessage, error) {
	return o.do(ctx, &Request{Action: ActionAdd, Key: keyJSON(key), Value: value, GetValue: getValue})
}

func (o dataOps) Concat(ctx context.Context, key Key, value json.RawMessage, getValue bool) (json.RawMessage, error) {
	return o.do(ctx, &Request{Action: ActionConcat, Key: keyJSON(key), Value: value, GetValue: getValue})
}

func (o dataOps) Get(ctx context.Context, key Key) (json.RawMessage, error) {
	return o.do(ctx, &Request{Action: ActionGet, Key: keyJSON(key)})
}

func (o dataOps) GetRange(ctx context.Context, key Key, from, to json.RawMessage) (json.RawMessage, error) {
	return o.do(ctx, &Request{Action: ActionGetRange, Key: keyJSON(key), From: from, To: to})
}

func (o dataOps) GetAll(ctx context.Context) (json.RawMessage, error) {
	return o.do(ctx, &Request{Action: ActionGetAll})
}

func (o dataOps) Count(ctx context.Context, key Key) (int, error) {
	v, err := o.do(ctx, &Request{Action: ActionCount, Key: keyJSON(key)})
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("%w: count answer %q", ErrBadFrame, truncate(string(v)))
	}
	return n, nil
}

func (o dataOps) HasKey(ctx context.Context, key Key) (bool, error) {
	v, err := o.do(ctx, &Request{Action: ActionHasKey, Key: keyJSON(key)})
	return string(v) == "true", err
}

func (o dataOps) Remove(ctx context.Context, key Key, getValue bool) (json.RawMessage, error) {
	return o.do(ctx, &Request{Action: ActionRemove, Key: keyJSON(key), GetValue: getValue})
}

func (o dataOps) RemoveRange(ctx context.Context, key Key, from, to json.RawMessage, getValue bool) (json.RawMessage, error) {
	return o.do(ctx, &Request{Action: ActionRemoveRange, Key: keyJSON(key), From: from, To: to, GetValue: getValue})
}

func (o dataOps) RemoveAll(ctx context.Context) error {
	_, err := o.do(ctx, &Request{Action: ActionRemoveAll})
	return err
}

func (o dataOps) Pop(ctx context.Context, key Key, getValue bool) (json.RawMessage, error) {
	return o.do(ctx, &Request{Action: ActionPop, Key: keyJSON(key), GetValue: getValue})
}

func (o dataOps) Expire(ctx context.Context, keys []Key, seconds float64) error {
	_, err := o.do(ctx, &Request{Action: ActionExpire, Keys: keysJSON(keys), Seconds: seconds})
	return err
}

func (o dataOps) Unexpire(ctx context.Context, keys []Key) error {
	_, err := o.do(ctx, &Request{Action: ActionUnexpire, Keys: keysJSON(keys)})
	return err
}

func (o dataOps) GetExpiry(ctx context.Context, key Key) (float64, bool, error) {
	v, err := o.do(ctx, &Request{Action: ActionGetExpiry, Key: keyJSON(key)})
	if err != nil || v == nil {
		return 0, false, err
	}
	var at float64
	if err := json.Unmarshal(v, &at); err != nil {
		return 0, false, fmt.Errorf("%w: expiry answer %q", ErrBadFrame, truncate(string(v)))
	}
	return at, true, nil
}

func (o dataOps) Run(ctx context.Context, source string, opts RunOptions) (json.RawMessage, error) {
	req := &Request{Action: ActionRun, Source: source, Data: opts.Data, mapIndex: opts.MapIndex}
	if opts.BaseKey != nil {
		req.BaseKey = keyJSON(opts.BaseKey)
	}
	return o.do(ctx, req)
}

// Data methods of a single-store Client.

func (c *Client) ops() dataOps { return dataOps{do: c.do} }

func (c *Client) Set(ctx context.Context, key Key, value json.RawMessage, getValue bool) (json.RawMessage, error) {
	return c.ops().Set(ctx, key, value, getValue)
}
func (c *Client) Add(ctx context.Context, key Key, value json.RawMessage, getValue bool) (json.RawMessage, error) {
	return c.ops().Add(ctx, key, value, getValue)
}
func (c *Client) Concat(ctx context.Context, key Key, value json.RawMessage, getValue bool) (json.RawMessage, error) {
	return c.ops().Concat(ctx, key, value, getValue)
}
func (c *Client) Get(ctx context.Context, key Key) (json.RawMessage, error) {
	return c.ops().Get(ctx, key)
}
func (c *Client) GetRange(ctx context.Context, key Key, from, to json.RawMessage) (json.RawMessage, error) {
	return c.ops().GetRange(ctx, key, from, to)
}
func (c *Client) GetAll(ctx context.Context) (json.RawMessage, error) { return c.ops().GetAll(ctx) }
func (c *Client) Count(ctx context.Context, key Key) (int, error)     { return c.ops().Count(ctx, key) }
func (c *Client) HasKey(ctx context.Context, key Key) (bool, error)   { return c.ops().HasKey(ctx, key) }
func (c *Client) Remove(ctx context.Context, key Key, getValue bool) (json.RawMessage, error) {
	return c.ops().Remove(ctx, key, getValue)
}
func (c *Client) RemoveRange(ctx context.Context, key Key, from, to json.RawMessage, getValue bool) (json.RawMessage, error) {
	return c.ops().RemoveRange(ctx, key, from, to, getValue)
}
func (c *Client) RemoveAll(ctx context.Context) error { return c.ops().RemoveAll(ctx) }
func (c *Client) Pop(ctx context.Context, key Key, getValue bool) (json.RawMessage, error) {
	return c.ops().Pop(ctx, key, getValue)
}
func (c *Client) Expire(ctx context.Context, keys []Key, seconds float64) error {
	return c.ops().Expire(ctx, keys, seconds)
}
func (c *Client) Unexpire(ctx context.Context, keys []Key) error { return c.ops().Unexpire(ctx, keys) }
func (c *Client) GetExpiry(ctx context.Context, key Key) (float64, bool, error) {
	return c.ops().GetExpiry(ctx, key)
}
func (c *Client) Run(ctx context.Context, source string, opts RunOptions) (json.RawMessage, error) {
	return c.ops().Run(ctx, source, opts)
}

var _ Engine = (*Client)(nil)
