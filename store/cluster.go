package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Hash is the late iocluster hash (spec 4.3): Java's String.hashCode over UTF-16 code units (wrapped to int32),
// absolute value, modulo n.
func Hash(s string, n int) int {
	if n <= 0 {
		return 0
	}
	var h int32
	for _, r := range s {
		if r >= 0x10000 { // surrogate pair
			r -= 0x10000
			h = h*31 + int32(0xD800+(r>>10))
			h = h*31 + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = h*31 + int32(r)
	}
	a := int64(h)
	if a < 0 {
		a = -a
	}
	return int(a % int64(n))
}

// Mapper chooses the stores of a command: key is the key chain (nil for channel and run commands), action the
// command, name the channel or run map index, n the number of stores. It returns one or more store indexes.
type Mapper func(key Key, action, name string, n int) []int

// PrivateMapper is iocluster's private mapper (late rules, spec 4.3): channels by hash(channel), run by
// hash(mapIndex) (store 0 without one), [...,'__meta','addresses',ip,...] by hash(ip), other chains by hash(key[2])
// (all stores when it is missing), and single keys by hash(key).
func PrivateMapper(key Key, action, name string, n int) []int {
	switch action {
	case ActionPublish, ActionSubscribe, ActionUnsubscribe:
		return []int{Hash(name, n)}
	case ActionRun:
		if name == "" {
			return []int{0}
		}
		return []int{Hash(name, n)}
	}
	switch {
	case len(key) >= 5 && key[2] == "__meta" && key[3] == "addresses":
		return []int{Hash(key[4], n)}
	case len(key) == 1:
		return []int{Hash(key[0], n)}
	case len(key) >= 3:
		return []int{Hash(key[2], n)}
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return all
}

// PublicMapper is the default mapper of global data: store 0 for data, hash(channel) for pub/sub.
func PublicMapper(key Key, action, name string, n int) []int {
	switch action {
	case ActionPublish, ActionSubscribe, ActionUnsubscribe:
		return []int{Hash(name, n)}
	}
	return []int{0}
}

// Cluster is an Engine over several store clients; every command goes to the store(s) its Mapper names. Writes
// mapped to several stores go to all of them; reads use the first. Safe for concurrent use.
type Cluster struct {
	dataOps
	clients []*Client

	mu     sync.RWMutex
	mapper Mapper
}

// NewCluster returns an engine over clients using mapper (nil: PrivateMapper). The Cluster owns the clients.
func NewCluster(clients []*Client, mapper Mapper) (*Cluster, error) {
	if len(clients) == 0 {
		return nil, fmt.Errorf("%w: a cluster needs at least one store", ErrBadArgument)
	}
	if mapper == nil {
		mapper = PrivateMapper
	}
	c := &Cluster{clients: clients, mapper: mapper}
	c.dataOps = dataOps{do: c.route}
	return c, nil
}

// SetMapper replaces the mapper (global.setMapper).
func (c *Cluster) SetMapper(m Mapper) {
	if m == nil {
		m = PrivateMapper
	}
	c.mu.Lock()
	c.mapper = m
	c.mu.Unlock()
}

// Map returns the store indexes of a command (global.map), clamped to valid indexes.
func (c *Cluster) Map(key Key, action, name string) []int {
	c.mu.RLock()
	m := c.mapper
	c.mu.RUnlock()
	var out []int
	for _, i := range m(key, action, name, len(c.clients)) {
		if i >= 0 && i < len(c.clients) {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		out = []int{0}
	}
	return out
}

// Clients returns the store clients.
func (c *Cluster) Clients() []*Client { return c.clients }

func isRead(action string) bool {
	switch action {
	case ActionGet, ActionGetRange, ActionGetAll, ActionCount, ActionHasKey, ActionGetExpiry:
		return true
	}
	return false
}

// route sends req to its store(s).
func (c *Cluster) route(ctx context.Context, req *Request) (json.RawMessage, error) {
	if req.Action == ActionExpire || req.Action == ActionUnexpire {
		return nil, c.routeKeys(ctx, req)
	}
	var idx []int
	switch req.Action {
	case ActionRun:
		idx = c.Map(nil, ActionRun, req.mapIndex)
	case ActionPublish, ActionSubscribe, ActionUnsubscribe:
		idx = c.Map(nil, req.Action, req.Channel)
	default:
		k, err := ParseKey(req.Key)
		if err != nil {
			return nil, err
		}
		idx = c.Map(k, req.Action, "")
	}
	if isRead(req.Action) || len(idx) == 1 {
		return c.clients[idx[0]].do(ctx, req)
	}
	var first json.RawMessage
	var errs []error
	for n, i := range idx {
		r := *req
		v, err := c.clients[i].do(ctx, &r)
		if n == 0 {
			first = v
		}
		errs = append(errs, err)
	}
	return first, errors.Join(errs...)
}

// routeKeys splits an expire/unexpire over the stores of its keys.
func (c *Cluster) routeKeys(ctx context.Context, req *Request) error {
	per := map[int][]json.RawMessage{}
	var order []int
	for _, raw := range req.Keys {
		k, err := ParseKey(raw)
		if err != nil {
			return err
		}
		for _, i := range c.Map(k, req.Action, "") {
			if _, seen := per[i]; !seen {
				order = append(order, i)
			}
			per[i] = append(per[i], raw)
		}
	}
	var errs []error
	for _, i := range order {
		r := *req
		r.Keys = per[i]
		_, err := c.clients[i].do(ctx, &r)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Publish publishes msg on the store of channel.
func (c *Cluster) Publish(ctx context.Context, channel string, msg json.RawMessage) error {
	return c.clients[c.Map(nil, ActionPublish, channel)[0]].Publish(ctx, channel, msg)
}

// Subscribe subscribes on the store of channel (restored after reconnects).
func (c *Cluster) Subscribe(ctx context.Context, channel string) error {
	return c.clients[c.Map(nil, ActionSubscribe, channel)[0]].Subscribe(ctx, channel)
}

// Unsubscribe drops the subscription on the store of channel.
func (c *Cluster) Unsubscribe(ctx context.Context, channel string) error {
	return c.clients[c.Map(nil, ActionUnsubscribe, channel)[0]].Unsubscribe(ctx, channel)
}

// Close closes every client.
func (c *Cluster) Close() error {
	for _, cl := range c.clients {
		cl.Close()
	}
	return nil
}

var _ Engine = (*Cluster)(nil)
