package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults of Config (engine.io 1.3.1 / SocketCluster 0.9 values unless noted).
const (
	// DefaultPingInterval is the pingInterval announced in the open packet (SC heartbeatInterval 25 s).
	DefaultPingInterval = 25 * time.Second
	// DefaultPingTimeout is the pingTimeout announced in the open packet (SC heartbeatTimeout 60 s).
	DefaultPingTimeout = 60 * time.Second
	// DefaultUpgradeTimeout bounds a WebSocket probe waiting for the upgrade packet (SC connectTimeout 10 s).
	DefaultUpgradeTimeout = 10 * time.Second
	// DefaultMaxHTTPBufferSize bounds a POST body and a WebSocket message: 1 MiB, much safer than engine.io's 1e8.
	DefaultMaxHTTPBufferSize = 1 << 20
	// DefaultMaxOutboundBytes bounds a socket's queued outbound data; overflow closes it as a slow consumer.
	DefaultMaxOutboundBytes = 4 << 20
	// DefaultWriteTimeout is the write deadline of one WebSocket write batch.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultHandshakeTimeout bounds writing the 101 response of a WebSocket upgrade (a peer that does not
	// read it is dropped). Slow request headers are bounded by the http.Server's ReadHeaderTimeout.
	DefaultHandshakeTimeout = 10 * time.Second

	// upgradeNudgeInterval is how often a pending poll is answered with a noop while a probe is waiting for the
	// upgrade packet (engine.io 1.3.1 socket.js: setInterval(check, 100)).
	upgradeNudgeInterval = 100 * time.Millisecond
	// wsCloseGrace is how long a server-initiated WebSocket close waits for the peer's close frame.
	wsCloseGrace = time.Second
	// wsReadBufferSize is gorilla's per-connection read buffer (frame headers, small frames; larger payloads
	// are read past it into the pooled message buffer). It stays with an idle connection, so it is small; it
	// must exceed 256 bytes for gorilla to take the hijacked reader as its own (see upgradeWriter).
	wsReadBufferSize = 288
	// idBytes is the number of random bytes of a default socket id (base64id: 15 bytes, 20 characters).
	idBytes = 15
)

// Transport names.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Close reasons passed to Handler.OnClose.
const (
	ReasonTransportClose = "transport close"
	ReasonTransportError = "transport error"
	ReasonPingTimeout    = "ping timeout"
	ReasonParseError     = "parse error"
	ReasonForcedClose    = "forced close"
	ReasonSlowConsumer   = "slow consumer"
	ReasonServerShutdown = "server shutdown"
)

// Error codes of 400 responses (engine.io 1.3.1 Server.errors).
const (
	ErrCodeUnknownTransport   = 0
	ErrCodeUnknownSID         = 1
	ErrCodeBadHandshakeMethod = 2
	ErrCodeBadRequest         = 3
)

var errorMessages = [...]string{"Transport unknown", "Session ID unknown", "Bad handshake method", "Bad request"}

var (
	// ErrClosed is returned by Send on a socket that is closing or closed.
	ErrClosed = errors.New("engineio: socket closed")
	// ErrSlowConsumer is returned (together with ErrClosed) by the Send that overflowed the outbound queue.
	ErrSlowConsumer = errors.New("engineio: slow consumer")
	// ErrServerClosed is returned by Shutdown when called twice.
	ErrServerClosed = errors.New("engineio: server closed")
)

// Config configures a Server. The zero value of every field selects the documented default.
type Config struct {
	// PingInterval is announced to clients, which ping that often. Default DefaultPingInterval.
	PingInterval time.Duration
	// PingTimeout is announced to clients; the server closes a socket that sent nothing for
	// PingInterval+PingTimeout ("ping timeout"). Default DefaultPingTimeout.
	PingTimeout time.Duration
	// UpgradeTimeout bounds the wait for the upgrade packet on a WebSocket probe. Default DefaultUpgradeTimeout.
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize is the largest accepted POST body and WebSocket message, in bytes. Default
	// DefaultMaxHTTPBufferSize (engine.io used 1e8). A larger POST is refused with 413 and closes the session.
	MaxHTTPBufferSize int64
	// Transports is a subset of {"polling","websocket"}; default both. Polling is always enabled.
	Transports []string
	// CookieName, when not empty, makes every polling response of a socket that started on polling carry
	// `Set-Cookie: <CookieName>=<sid>` (no attributes), e.g. "n/myapp/io".
	CookieName string
	// MaxOutboundBytes bounds the bytes queued for one socket. Default DefaultMaxOutboundBytes.
	MaxOutboundBytes int
	// WriteTimeout is the deadline of each WebSocket write batch. Default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// AllowRequest, if set, is called on the HTTP goroutine (it may block) for every request without sid (new
	// connections). A non-nil error rejects it: polling gets 400 `{"code":null}`, a WebSocket upgrade has its
	// TCP connection closed without an HTTP response.
	AllowRequest func(r *http.Request) error
	// CheckOrigin, if set, is called first for every request: handshakes, every polling GET, POST and OPTIONS
	// of existing sockets, WebSocket handshakes and probes. false refuses the request before anything else is
	// looked at: polling gets 400 `{"code":null}` without CORS headers (a browser script cannot read it), a
	// WebSocket upgrade has its TCP connection closed. The session (if any) is not touched. CORS headers
	// reflect the request's Origin only on requests it passed. nil allows every origin (engine.io 1.3.1).
	CheckOrigin func(r *http.Request) bool
	// DisableJSONP refuses JSONP handshakes (`j` parameter) with 400 code 3 "Bad request". JSONP answers
	// are readable by any site's <script> tag whatever CORS says, so callers with an origin policy disable it.
	DisableJSONP bool
	// HandshakeTimeout bounds writing the 101 response of a WebSocket upgrade. Default DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// GenerateID returns the id of a new socket. Default: 15 random bytes (crypto/rand) as URL-safe base64.
	GenerateID func(r *http.Request) string
	// OnConnection is called for each new socket after it is registered and before the handshake response is
	// written. Messages it sends are delivered after the open packet (next poll or next frame). Call
	// Socket.SetHandler here.
	OnConnection func(s *Socket)
	// Logger receives diagnostics; default slog.Default().
	Logger *slog.Logger
}

// Server is an engine.io 1.3.1 server (polling + WebSocket). Route the requests under the engine path to
// ServeHTTP.
type Server struct {
	cfg       Config
	polling   bool
	websocket bool
	log       *slog.Logger
	upgrader  websocket.Upgrader

	mu      sync.Mutex
	clients map[string]*Socket
	closed  bool
	wg      sync.WaitGroup // WebSocket reader/writer goroutines and OnClose deliveries

	pollerMu   sync.Mutex
	poller     *poller // started by the first WebSocket; nil when unavailable
	pollerDone bool    // poller started (or failed) or the server shut down
}

// readPoller returns the readiness poller of idle WebSockets, starting it on first use; nil when the platform
// has none, it failed to start, or the server is shut down.
func (s *Server) readPoller() *poller {
	s.pollerMu.Lock()
	defer s.pollerMu.Unlock()
	if !s.pollerDone {
		s.pollerDone = true
		p, err := newPoller()
		if err != nil {
			s.log.Debug("no readiness poller: every WebSocket keeps a reader goroutine", "err", err)
			return nil
		}
		s.poller = p
		p.start()
	}
	return s.poller
}

// stopPoller stops the poller (readers keep their goroutines from then on) and waits for its goroutine.
func (s *Server) stopPoller() {
	s.pollerMu.Lock()
	p := s.poller
	s.pollerDone = true
	s.pollerMu.Unlock()
	if p != nil {
		p.stop()
	}
}

// NewServer returns a Server for cfg with defaults filled in.
func NewServer(cfg Config) *Server {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = DefaultPingTimeout
	}
	if cfg.UpgradeTimeout <= 0 {
		cfg.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if cfg.MaxHTTPBufferSize <= 0 {
		cfg.MaxHTTPBufferSize = DefaultMaxHTTPBufferSize
	}
	if cfg.MaxOutboundBytes <= 0 {
		cfg.MaxOutboundBytes = DefaultMaxOutboundBytes
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.GenerateID == nil {
		cfg.GenerateID = defaultID
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg:     cfg,
		polling: true,
		log:     cfg.Logger.With("component", "engineio"),
		clients: make(map[string]*Socket),
	}
	if cfg.Transports == nil {
		s.websocket = true
	}
	for _, t := range cfg.Transports {
		if t == TransportWebSocket {
			s.websocket = true
		}
	}
	s.upgrader = websocket.Upgrader{
		// ReadBufferSize 0: gorilla reads through the hijacked bufio.Reader that upgradeWriter sizes
		// (wsReadBufferSize) and the reader watches.
		WriteBufferPool:  &sync.Pool{},
		HandshakeTimeout: cfg.HandshakeTimeout,
		// Origin policy is Config.CheckOrigin, applied in ServeHTTP before the upgrade.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return s
}

func defaultID(*http.Request) string {
	var b [idBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go >= 1.24)
	return base64.URLEncoding.EncodeToString(b[:])
}

// Clients returns the number of registered sockets.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Socket returns the open socket with the given id, or nil.
func (s *Server) Socket(id string) *Socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id]
}

// Shutdown closes every socket (close packet on a pending poll, close frame on a WebSocket; reason "server
// shutdown"), refuses new connections, and waits until all goroutines of the server have ended or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.closed = true
	socks := make([]*Socket, 0, len(s.clients))
	for _, c := range s.clients {
		socks = append(socks, c)
	}
	s.mu.Unlock()
	for _, c := range socks {
		c.finish(ReasonServerShutdown)
	}
	s.stopPoller()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errDuplicateID is reported when GenerateID returned the id of a live socket.
var errDuplicateID = errors.New("engineio: generated socket id already in use")

// register adds c to the clients map unless the server is shut down (ErrServerClosed) or the id is taken;
// wsGoroutines are accounted for in the WaitGroup under the same lock so that Shutdown's Wait never races with Add.
func (s *Server) register(c *Socket, wsGoroutines int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrServerClosed
	}
	if _, taken := s.clients[c.id]; taken {
		return errDuplicateID
	}
	s.clients[c.id] = c
	s.wg.Add(wsGoroutines)
	return nil
}

func (s *Server) unregister(c *Socket) {
	s.mu.Lock()
	if s.clients[c.id] == c {
		delete(s.clients, c.id)
	}
	s.mu.Unlock()
}

// query holds the engine.io query parameters (Node querystring semantics: a repeated key is an array).
type query struct {
	transport string
	sid       string
	b64       bool
	jsonp     bool
	j         string
	badTrans  bool
}

func parseQuery(r *http.Request) query {
	vals, _ := url.ParseQuery(r.URL.RawQuery) // keeps the well-formed pairs on error
	var q query
	if t := vals["transport"]; len(t) == 1 {
		q.transport = t[0]
	} else {
		q.badTrans = true
	}
	switch sids := vals["sid"]; len(sids) {
	case 0:
	case 1:
		q.sid = sids[0]
	default:
		q.sid = "\x00multiple" // an array never names a known socket
	}
	if b := vals["b64"]; len(b) > 1 || (len(b) == 1 && b[0] != "") {
		q.b64 = true
	}
	if j := vals["j"]; len(j) == 1 {
		q.jsonp = true
		q.j = j[0]
	}
	return q
}

func (s *Server) hasTransport(t string) bool {
	return t == TransportPolling || (t == TransportWebSocket && s.websocket)
}

// ServeHTTP handles an engine.io request (polling GET/POST/OPTIONS or a WebSocket upgrade). The caller routes
// only requests under the engine path here.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := parseQuery(r)
	upgrade := websocket.IsWebSocketUpgrade(r)
	if s.cfg.CheckOrigin != nil && !s.cfg.CheckOrigin(r) {
		s.log.Debug("origin refused", "origin", r.Header.Get("Origin"), "remote", r.RemoteAddr, "upgrade", upgrade)
		if upgrade {
			rejectConn(w)
		} else {
			writeOriginRefused(w)
		}
		return
	}
	if upgrade {
		s.serveUpgrade(w, r, q)
		return
	}
	// Verification order of engine.io 1.3.1 Server#verify.
	if q.badTrans || !s.hasTransport(q.transport) {
		writeError(w, r, ErrCodeUnknownTransport)
		return
	}
	if q.sid != "" {
		c := s.Socket(q.sid)
		if c == nil {
			writeError(w, r, ErrCodeUnknownSID)
			return
		}
		if c.Transport() != q.transport || q.transport != TransportPolling {
			// Wrong transport, or a websocket request without Upgrade header (engine.io would hang it).
			writeError(w, r, ErrCodeBadRequest)
			return
		}
		c.servePolling(w, r)
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, r, ErrCodeBadHandshakeMethod)
		return
	}
	if s.cfg.AllowRequest != nil {
		if err := s.cfg.AllowRequest(r); err != nil {
			s.log.Debug("handshake rejected", "err", err, "remote", r.RemoteAddr)
			writeRejected(w, r)
			return
		}
	}
	if q.transport != TransportPolling {
		// A websocket handshake without an Upgrade header: engine.io's transport constructor throws.
		writeError(w, r, ErrCodeBadRequest)
		return
	}
	if q.jsonp && s.cfg.DisableJSONP {
		writeError(w, r, ErrCodeBadRequest)
		return
	}
	s.handshakePolling(w, r, q)
}

// writeOriginRefused answers a request Config.CheckOrigin refused: 400 `{"code":null}` and no CORS headers.
func writeOriginRefused(w http.ResponseWriter) {
	const body = `{"code":null}`
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(body))
}

// corsHeaders sets the XHR CORS headers of engine.io 1.3.1. Only requests that passed Config.CheckOrigin get
// here, so the reflected Origin is always an allowed one.
func corsHeaders(h http.Header, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		h["Access-Control-Allow-Credentials"] = []string{"true"}
		h["Access-Control-Allow-Origin"] = []string{origin}
	} else {
		h["Access-Control-Allow-Origin"] = []string{"*"}
	}
}

// writeError writes a 400 JSON error `{"code":<n>,"message":"<text>"}` with CORS headers.
func writeError(w http.ResponseWriter, r *http.Request, code int) {
	body := `{"code":` + strconv.Itoa(code) + `,"message":"` + errorMessages[code] + `"}`
	writeJSON400(w, r, body)
}

// writeRejected writes the acceptance-failure answer `{"code":null}`.
func writeRejected(w http.ResponseWriter, r *http.Request) { writeJSON400(w, r, `{"code":null}`) }

func writeJSON400(w http.ResponseWriter, r *http.Request, body string) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	corsHeaders(h, r)
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(body))
}

// openPacket builds the data of the open packet: sid, upgrades, pingInterval, pingTimeout in that order.
func (s *Server) openPacket(id string, upgrades bool) Packet {
	b := make([]byte, 0, 96+len(id))
	b = append(b, `{"sid":`...)
	b = appendJSONString(b, id)
	if upgrades {
		b = append(b, `,"upgrades":["websocket"]`...)
	} else {
		b = append(b, `,"upgrades":[]`...)
	}
	b = append(b, `,"pingInterval":`...)
	b = strconv.AppendInt(b, s.cfg.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, s.cfg.PingTimeout.Milliseconds(), 10)
	b = append(b, '}')
	return Packet{Type: Open, Data: string(b)}
}

func (s *Server) handshakePolling(w http.ResponseWriter, r *http.Request, q query) {
	c := newSocket(s, s.cfg.GenerateID(r), newHandshake(r), TransportPolling)
	c.b64 = q.b64
	c.jsonp = q.jsonp
	c.j = q.j
	c.cookie = s.cfg.CookieName != ""
	if err := s.register(c, 0); err != nil {
		s.log.Warn("handshake refused", "err", err)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	c.startLiveness()
	s.log.Debug("handshake", "sid", c.id, "transport", TransportPolling, "b64", q.b64, "jsonp", q.jsonp)
	if s.cfg.OnConnection != nil {
		s.cfg.OnConnection(c)
	}
	// The handshake response carries only the open packet; what OnConnection queued goes with the next poll.
	c.writePollResponse(w, r, []Packet{s.openPacket(c.id, s.websocket)})
}
