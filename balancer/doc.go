// Package balancer is the cluster's front door: an HTTP reverse proxy and a
// WebSocket tunnel that routes every request of an engine.io session to the
// worker that owns it.
//
// Routing (spec 6.1, "smart balancing"): the session id is taken from the
// `sid` query parameter (engine.io polling and upgrade requests), else from
// the `n/<appName>/ssid` cookie. Socket ids have the shape
// `<host>_w<id>_<port>_<secure>_<random>`; field 2 names the worker. If that
// worker is in the live table the request goes there; otherwise (no id, a
// malformed id, a dead worker) it goes to the live worker with the least
// load: the open connections the worker reported in its last handoff answer
// (handed-off WebSockets never pass through here) plus the requests and
// tunnels this balancer has open to it. An address is never built
// from client input: the id only selects an entry of the table the master
// sent (SetWorkers).
//
// HTTP requests go through net/http/httputil.ReverseProxy with
// X-Forwarded-For, -Proto, -Host and -Port; engine.io polling GETs and POSTs
// with small bodies take a leaner path that sends the same request on pooled
// keep-alive connections to the worker from the request's own goroutine
// (engineproxy.go). WebSocket upgrade requests are
// forwarded as written and then the two TCP connections are spliced
// (io.Copy between *net.TCPConn uses splice(2) on Linux), so the extra hop
// costs two copies in the kernel and no frame parsing.
//
// Handoff (Linux): when a worker's table entry names a handoff socket
// (handoff.JoinEntry), a WebSocket upgrade over plain TCP is not tunnelled:
// the client's socket, the rewritten request head and the bytes already read
// are passed to the worker (package cluster/handoff) and the balancer closes
// its copy. When the worker does not take it the connection is tunnelled as
// above; TLS connections terminated here and upgrades while Serve drains are
// always tunnelled.
//
// Concurrency: SetWorkers, ServeHTTP and Serve may be called from any
// goroutine. Serve owns the HTTP server and the tunnels it opens and returns
// only when they are gone.
package balancer
