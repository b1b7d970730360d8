package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/socketcluster-go/socketcluster/store"
)

// DefaultStoreReadyTimeout bounds how long a new worker waits for its store connections before it reports ready
// (it serves anyway afterwards; the clients keep reconnecting).
const DefaultStoreReadyTimeout = 10 * time.Second

// Engines are the store engines of one worker process, built from ChildConfig.Stores or ChildConfig.StoreURL.
type Engines struct {
	Private, Public store.Engine
	Relay           *Relay
}

// Apply puts the engines into a WorkerConfig.
func (e Engines) Apply(cfg *WorkerConfig) {
	cfg.Private, cfg.Public, cfg.Relay = e.Private, e.Public, e.Relay
}

// Close closes the engines' connections.
func (e Engines) Close() {
	if e.Private != nil {
		_ = e.Private.Close()
	}
	if e.Public != nil && e.Public != e.Private {
		_ = e.Public.Close()
	}
}

// splitStoreAddr reads "unix:/path" or "tcp:host:port" (a bare address is TCP).
func splitStoreAddr(a string) (network, address string) {
	if n, rest, ok := strings.Cut(a, ":"); ok && (n == "unix" || n == "tcp") {
		return n, rest
	}
	return "tcp", a
}

// DialEngines builds a worker's engines: a store.Cluster of store.Clients over the store processes at addrs
// (private mapper for sessions and channels, public mapper for global data), or a RedisEngine for redisURL, or
// nothing (zero Engines: the worker keeps an in-process store). It waits up to DefaultStoreReadyTimeout for the
// stores; ones still down are logged and keep being redialled.
func DialEngines(ctx context.Context, addrs []string, redisURL, secret string, log *slog.Logger) (Engines, error) {
	relay := NewRelay()
	if redisURL != "" {
		e, err := store.NewRedisEngine(store.RedisOptions{URL: redisURL, OnMessage: relay.Deliver, Logger: log})
		if err != nil {
			return Engines{}, err
		}
		pctx, cancel := context.WithTimeout(ctx, DefaultStoreReadyTimeout)
		if err := e.Ping(pctx); err != nil {
			log.Warn("redis not reachable yet; calls fail until it is", "err", err)
		}
		cancel()
		return Engines{Private: e, Public: e, Relay: relay}, nil
	}
	if len(addrs) == 0 {
		return Engines{}, nil
	}
	clients := make([]*store.Client, 0, len(addrs))
	for _, a := range addrs {
		network, address := splitStoreAddr(a)
		c, err := store.NewClient(store.ClientOptions{Network: network, Address: address, Secret: secret, OnMessage: relay.Deliver, Logger: log})
		if err != nil {
			for _, c := range clients {
				c.Close()
			}
			return Engines{}, fmt.Errorf("store %s: %w", a, err)
		}
		clients = append(clients, c)
	}
	wctx, cancel := context.WithTimeout(ctx, DefaultStoreReadyTimeout)
	for i, c := range clients {
		if err := c.WaitReady(wctx); err != nil {
			log.Warn("store not reachable yet", "store", addrs[i], "err", err)
		}
	}
	cancel()
	priv, err := store.NewCluster(clients, store.PrivateMapper)
	if err != nil {
		return Engines{}, err
	}
	pub, err := store.NewCluster(clients, store.PublicMapper)
	if err != nil {
		return Engines{}, err
	}
	return Engines{Private: priv, Public: pub, Relay: relay}, nil
}
