// Package store is the nData-compatible store layer of SocketCluster (spec §4): the data model, the store server
// (run as a child process `socketcluster store`, or in-process), its pipelined Go client, and the Engine interface
// workers use for session data, global data and pub/sub, with a sharded implementation over store processes
// (Cluster) and a Redis one (RedisEngine).
//
// # Data model (spec 4.1, fleximap semantics)
//
// Data holds JSON-like values under key chains (Key, a []string; a JSON key may be a string, a number or an array
// of those). Keys are never split on dots. Missing levels are created by set (a scalar in the way is replaced by
// a map). A map is shown as a JSON array only if it was created from an array (set with an array, add, concat)
// and its keys are exactly 0..n-1; otherwise as an object whose keys enumerate like JavaScript's (integer keys
// ascending, then the others in insertion order). Deleting a numeric key splices: later numeric keys shift down.
// add appends at the next numeric index ([value] for a missing key, [x, value] for a scalar x); concat appends an
// array element-wise, merges an object key by key and adds a scalar; pop removes the last numeric entry (the fixed
// fleximap 0.9.10 behaviour); getRange/removeRange take [from, to) by index for arrays (slice rules) and from key
// `from` up to (excluding) key `to` for objects. With getValue, set/add/concat return the value now at the key and
// remove/removeRange/pop the removed value. expire(keys, seconds) records an absolute expiry (epoch seconds,
// float; the key need not exist yet), getExpiry returns it, unexpire drops it; the Store sweeps every
// StoreOptions.ExpiryAccuracy (default 5 s) and removes due keys earliest first.
//
// run/query: the function's source is evaluated in the store's own goja VM and called as
// fn(DataMap, dataExpirer, eventMap). DataMap has the data methods (set, add, concat, get, getRange, getAll, count,
// hasKey, remove, removeRange, removeAll, pop) relative to baseKey; dataExpirer has expire/unexpire/getExpiry on
// absolute keys; eventMap is an empty object. Each property of data is declared as `var <name> = <JSON>;` in a
// scope the function closes over (names must be identifiers, else ErrBadArgument). The JSON.stringify of the
// return value is the result. A thrown exception becomes `nData Error - Exception at run(): <stack>`
// (ErrRunException); a run longer than StoreOptions.RunBudget (default 2 s) is interrupted and reported the same
// way with ErrRunBudget ("run() exceeded its time budget"), and the next run gets a fresh VM. Call depth is
// bounded (DefaultRunMaxCallStackSize). Runs hold the store lock: a run blocks the store for at most its budget.
//
// # Protocol
//
// Every frame, both ways, is a 4-byte big-endian length followed by that many bytes of one JSON object (at most
// ServerOptions.MaxFrameSize, default 16 MiB; a larger length closes the connection).
//
// The first client frame must be {"action":"init","secret":"<cluster secret>"}; the server compares SHA-256
// digests of the secrets in constant time and answers {"type":"response","action":"init"} or, for a wrong
// secret, any other first frame, garbage, or silence past HandshakeTimeout (5 s), an error frame
// ("nData Error - Invalid password" / "nData Error - Cannot process command before init handshake") after which
// it closes the connection.
//
// Commands: {"id":N,"action":A, ...arguments} with A one of set, add, concat, get, getRange, getAll, count, hasKey,
// remove, removeRange, removeAll, pop, expire, unexpire, getExpiry, run, subscribe, unsubscribe, publish, and the
// arguments key, keys (array of key chains), value, from, to, seconds, getValue, noAck, source, baseKey, data,
// channel (see Request). Answers: {"id":N,"type":"response","action":A,"value":V} with value absent for undefined,
// or with "error":"<text>". Published messages: {"type":"message","channel":C,"value":V}. A client may pipeline any
// number of commands; one connection's commands run in order and their answers come back in order. Messages of one
// publisher reach every subscriber in publish order. A connection's subscriptions end with it.
//
// Bounds: each connection has one reader (executing commands) and one writer draining a queue capped at
// MaxPendingFrames (65536) frames and MaxPendingBytes (64 MiB); a connection that does not read its answers or
// messages fast enough is closed as a slow consumer (CloseSlowConsumer), never allowed to grow memory. Writes have
// a deadline (WriteTimeout, 10 s).
//
// # Client
//
// Client pipelines commands over one connection. Each command waits at most ClientOptions.Timeout (default 10 s),
// then fails with a *TimeoutError, "nData Error - The <action> action timed out". When the connection drops,
// pending and new commands fail at once with ErrUnavailable ("nData Error - store unavailable: <addr>: <cause>"),
// while the client redials with exponential backoff (20 ms .. 1 s), repeats the init handshake and restores its
// subscriptions (then calls OnConnect). Messages go to OnMessage on the reader goroutine, in order.
//
// # Sharding (spec 4.3)
//
// Cluster spreads commands over several clients with a Mapper. PrivateMapper is iocluster's late mapper: Hash is
// Java's String.hashCode (UTF-16 units, int32 wrap), absolute value, modulo the store count; session chains
// ['__iocl','sed',ssid,...] go to hash(ssid), address records [...,'__meta','addresses',ip,...] to hash(ip), channels
// to hash(channel), run to hash(mapIndex) (store 0 without one), single keys to hash(key), chains without a third
// element to all stores. PublicMapper (global data) sends data to store 0 and channels to hash(channel);
// Cluster.SetMapper replaces it (global.setMapper). Writes mapped to several stores go to each; reads to the first.
//
// # Redis
//
// RedisEngine gives the same observable behaviour on Redis for what sessions and global data use, so that several
// clusters can share sessions and channels. The data is cut into documents (a session, an address record, the rest
// of an ['__iocl', area], or another top-level key), each stored as JSON under <prefix>doc:<chain> and updated with
// the data model above inside WATCH/MULTI transactions. An expiry on a document root is also that key's Redis
// expiry (PEXPIREAT), so Redis removes whole sessions itself; deeper expiries are applied whenever the document is
// next read or written. getAll of the whole keyspace and run without baseKey are not supported
// (ErrRedisUnsupported); a run's dataExpirer writes land in the baseKey's document. Pub/sub is PUBLISH/SUBSCRIBE
// on <prefix>ch:<channel>; go-redis resubscribes after reconnects. While Redis is unreachable every call fails with
// an error wrapping ErrUnavailable ("store unavailable: redis <addr>: ...") instead of hanging.
//
// # What survives a crash
//
// A store process keeps its data in memory only. If a store dies, everything it held is lost: the sessions mapped
// to it (their data, __auth and __meta socket records), the address records mapped to it, and, for store 0, the
// global data; messages published while it is down are not delivered (publish fails with ErrUnavailable). Data on
// the other stores is untouched. Clients reconnect to its replacement on the same address and restore their
// subscriptions, so after the restart sessions on that store start empty, new data and publishes work again, and
// nothing blocks longer than one command timeout. A worker crash loses nothing in the stores. With the Redis
// engine, data and subscriptions live in Redis: worker and cluster restarts lose nothing; a Redis restart loses
// what Redis did not persist (the tests run it with --save ” --appendonly no, i.e. everything), and a
// Redis outage makes operations fail with ErrUnavailable until it answers again.
package store
