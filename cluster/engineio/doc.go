// Package engineio implements the engine.io 1.3.1 protocol (engine.io-parser 1.0.6 framing) as spoken by
// socketcluster-client 0.9.36/0.9.37 (bundled engine.io-client 1.3.1): the packet and payload codec and an HTTP
// server with the long-polling (XHR binary, XHR text `b64`, JSONP) and WebSocket transports, the probe/upgrade
// dance and the client-driven heartbeat. It knows nothing of the SocketCluster layer above it: message packets
// carry opaque strings.
//
// # Wire facts worth knowing
//
//   - String packets are UTF-8 pre-encoded into a "byte string": WebSocket text frames and text (b64/JSONP) polling
//     bodies therefore carry non-ASCII text double-UTF-8-encoded, binary polling bodies carry it single-encoded,
//     and every length prefix counts bytes of the single-encoded form. Packet.Data is always ordinary UTF-8; the
//     codec does both layers. Single-encoded non-ASCII from a peer is a parse error (engine.io 1.3.1 crashed on it).
//   - The polling framing of a socket's responses is fixed at the handshake: `b64` present (non-empty) selects text
//     (JSONP when `j` is present), otherwise binary with exactly `Content-Type: application/octet-stream`. POST
//     bodies are decoded as binary iff their Content-Type is exactly application/octet-stream.
//   - The `EIO` query parameter is ignored (the browser bundle says 2, Node says 3; both speak this protocol).
//
// # Concurrency
//
// Server.ServeHTTP runs on the caller's HTTP goroutines; a long-polling GET blocks its goroutine until packets are
// queued (so an http.Server WriteTimeout must exceed PingInterval, or be zero). A WebSocket has at most one
// reader and one writer goroutine, owned by the Server and awaited by Shutdown: the writer runs only while there
// is something to write, and on Linux the reader only while the connection is busy. An idle connection (nothing
// read for a second, and nothing left in its 288-byte read buffer) waits in the Server's epoll poller without a
// goroutine; readability starts a new reader. This applies to bare TCP/Unix sockets and to wrappers that
// implement BufferedConn; other connections (TLS) keep their reader goroutine. Socket methods are safe from any
// goroutine; Send never blocks (the outbound queue is bounded in bytes, overflow closes the socket as a slow
// consumer). Handler.OnMessage runs on the reading goroutine (the POST's HTTP goroutine or the WebSocket reader),
// serialised per socket; while it blocks that socket is not read (back-pressure). Handler.OnClose runs once, on
// its own goroutine, after every OnMessage of the socket has returned.
//
// # Deviations from engine.io 1.3.1 (deliberate)
//
//   - MaxHTTPBufferSize defaults to 1 MiB (engine.io: 1e8) and also bounds WebSocket messages (engine.io had no
//     limit there). An oversized POST gets 413 and closes the session ("transport error") instead of a destroyed
//     TCP connection; an oversized WebSocket message closes with code 1009.
//   - Malformed payloads never crash, hang or loop: they close only that session with "parse error". Packets that
//     precede the fault in the same payload are delivered first, as engine.io does. Length prefixes must be
//     decimal digits (engine.io accepted anything JavaScript's Number() parses); a truncated binary payload entry,
//     an empty or unknown-type binary packet are parse errors (engine.io silently passed them on).
//   - When a socket ends for any reason, a pending poll is answered with a close packet and a WebSocket is closed
//     (engine.io left both hanging except on a server close). An overlapping GET gets an empty 500 response
//     instead of a never-finished one.
//   - A WebSocket probe is refused (closed) while another probe is in progress or when the socket already runs on
//     WebSocket; engine.io only refused it after an upgrade.
//   - A polling socket closed with Socket.Close while no GET is pending stays registered until the next GET
//     delivers [queued..., close] (or [noop, close]); if none comes within PingInterval+PingTimeout it ends with
//     reason "forced close" (engine.io: "ping timeout").
//   - Config.CheckOrigin (when set) guards every request, not only handshakes: a refused poll, POST, OPTIONS or
//     probe gets 400 {"code":null} without CORS headers (a WebSocket: TCP closed) and the session is untouched.
//     Config.DisableJSONP refuses JSONP handshakes (400 code 3). engine.io had neither.
//   - WebSocket text messages must be valid UTF-8 (RFC 6455 8.1; gorilla does not check): the first impossible
//     byte closes the connection with 1007, before the message is complete. A 64-bit frame length with the top
//     bit set gets 1002. After a failed read the server shuts its write side and drains the peer for up to a
//     second before closing, so the close frame is not lost to a TCP reset. conformance_test.go lists the RFC
//     cases and the few gorilla differences that remain.
//   - Handshakes arriving after Shutdown get 503. X-XSS-Protection: 0 is set exactly where engine.io set it: on
//     poll data responses for `;MSIE`/`Trident/` user agents, plus every JSONP response for `MSIE 8.0`.
package engineio
