// Package cluster is the worker's network side (engine.io transports, the
// SC layer, connection lifecycle and limits) and, later, the master's
// supervision of worker, store and balancer processes.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/socketcluster-go/socketcluster/cluster/engineio"
	"github.com/socketcluster-go/socketcluster/cluster/handoff"
	"github.com/socketcluster-go/socketcluster/cluster/metrics"
	"github.com/socketcluster-go/socketcluster/jsapi"
	jsrt "github.com/socketcluster-go/socketcluster/runtime"
	"github.com/socketcluster-go/socketcluster/store"
)

// Header and handshake limits of the worker's HTTP server.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultIdleTimeout       = 120 * time.Second
	// statusBodyLimit bounds the /~status request body.
	statusBodyLimit = 4 << 10
)

// StaticFile is a file the worker serves when no user handler answered.
type StaticFile struct {
	Body        []byte
	ContentType string
	ETag        string // strong entity tag, quoted; "" for none
}

// WorkerConfig configures one worker.
type WorkerConfig struct {
	Options Options
	Logger  *slog.Logger
	Stdout  io.Writer // console.log of worker.js (default os.Stdout)
	Stderr  io.Writer // console.error of worker.js (default os.Stderr)
	// Fallback files by URL path (e.g. "/socketcluster.js"), served for GET
	// when worker.js has no 'req' listener or answered 404.
	Fallback map[string]StaticFile
	// Overlay is presented to worker.js's require and fs where no real file
	// exists (see runtime.Options.Overlay); keys are relative to the app
	// directory.
	Overlay map[string][]byte
	// Private is the engine of sessions, address records and channels; Public the engine of global data (nil:
	// Private). With Private nil the worker keeps everything in an in-process store (one worker only).
	Private, Public store.Engine
	// Relay must be the OnMessage of Private (Relay.Deliver) when Private is given: NewWorker attaches itself.
	Relay *Relay
}

// Worker is one running SocketCluster worker: a JS VM with the user's
// worker controller and the network side that feeds it.
type Worker struct {
	opts     Options
	log      *slog.Logger
	loop     *jsrt.Loop
	js       *jsapi.Worker
	engine   *engineio.Server
	broker   *localBroker
	origins  originPolicy
	fallback map[string]StaticFile
	ssidName string
	ssidRe   *regexp.Regexp

	stats struct {
		httpRequests atomic.Int64
		messagesIn   atomic.Int64
		messagesOut  atomic.Int64
	}
	rpm struct {
		sync.Mutex
		http, io int
	}

	metrics *metrics.Worker
	conns   sync.Map // *conn -> struct{}: open connections, for the metrics

	bound atomic.Int64

	server *http.Server
	// httpConns is the state of every open HTTP connection of server (hijacked and closed ones leave it).
	httpConns struct {
		sync.Mutex
		m map[net.Conn]http.ConnState
	}

	// handshakes is the per-address handshake rate limit (nil: none).
	handshakes *rateLimiter

	hub *hub
}

// ErrWorkerController reports a worker controller that cannot start.
var ErrWorkerController = errors.New("worker controller failed")

// NewWorker loads the worker controller and prepares the network side.
// The returned error names the file (and line, for syntax errors).
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	opts, err := cfg.Options.withDefaults()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	controller, err := filepath.Abs(opts.WorkerController)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(controller); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWorkerController, err)
	}
	appDir := filepath.Dir(controller)
	overlay := make(map[string][]byte, len(cfg.Overlay))
	for rel, b := range cfg.Overlay {
		overlay[filepath.Join(appDir, rel)] = b
	}
	origins, _ := parseOrigins(opts.Origins)
	w := &Worker{
		opts:     opts,
		log:      log,
		broker:   newLocalBroker(),
		origins:  origins,
		fallback: cfg.Fallback,
		ssidName: "n/" + opts.AppName + "/ssid",
	}
	w.metrics = metrics.NewWorker(opts.WorkerID, metrics.Sources{
		Connections: w.connectionsByTransport,
		MessagesIn:  w.stats.messagesIn.Load,
		MessagesOut: w.stats.messagesOut.Load,
	})
	w.ssidRe = regexp.MustCompile(regexp.QuoteMeta(w.ssidName) + `=([^;]*)`)
	w.handshakes = newRateLimiter(opts.HandshakeRateLimit)
	w.hub = newHub(w, cfg)
	w.hub.start()
	loop, err := jsrt.New(jsrt.Options{
		AppDir:        appDir,
		Logger:        log,
		Stdout:        cfg.Stdout,
		Stderr:        cfg.Stderr,
		HandlerBudget: opts.HandlerBudget,
		Overlay:       overlay,
	})
	if err != nil {
		w.hub.close()
		return nil, err
	}
	loop.Start()
	w.loop = loop
	js, err := jsapi.New(jsapi.Config{
		Loop:               loop,
		Logger:             log,
		ID:                 opts.WorkerID,
		IsLeader:           opts.WorkerID == 0,
		AppName:            opts.AppName,
		Path:               opts.Path,
		AckTimeout:         opts.AckTimeout,
		AllowClientPublish: opts.AllowClientPublish,
		Origins:            opts.Origins,
		Options:            opts.jsOptions(),
		Status:             w.Status,
		Backend:            backend{w.hub},
	})
	if err != nil {
		_ = loop.Stop(context.Background())
		w.hub.close()
		return nil, err
	}
	w.js = js
	w.engine = engineio.NewServer(engineio.Config{
		PingInterval:      opts.HeartbeatInterval,
		PingTimeout:       opts.HeartbeatTimeout,
		UpgradeTimeout:    opts.ConnectTimeout,
		MaxHTTPBufferSize: opts.MaxHTTPBufferSize,
		Transports:        opts.Transports,
		CookieName:        "n/" + opts.AppName + "/io",
		AllowRequest:      w.allowRequest,
		CheckOrigin:       w.checkOrigin(),
		DisableJSONP:      !origins.any,
		GenerateID:        w.generateID,
		OnConnection:      w.onConnection,
		Logger:            log,
	})
	if err := js.Run(controller); err != nil {
		_ = loop.Stop(context.Background())
		w.hub.close()
		return nil, fmt.Errorf("%w: %w", ErrWorkerController, err)
	}
	return w, nil
}

// Serve answers HTTP on l until ctx is done, then shuts down gracefully
// within grace.
func (w *Worker) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	w.server = &http.Server{
		Handler:           w,
		ReadHeaderTimeout: w.opts.HeaderTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		IdleTimeout:       DefaultIdleTimeout,
		ErrorLog:          slog.NewLogLogger(w.log.Handler(), slog.LevelDebug),
		ConnState:         w.trackConn,
		// l may be a handoff.Listener: its handed-off connections are marked
		ConnContext: handoff.ConnContext,
	}
	if h, ok := l.(interface{ SetLoad(func() int) }); ok {
		// handoff answers carry the open connections (balancers pick by them)
		h.SetLoad(func() int { return int(w.bound.Load()) })
	}
	go w.statusTicker(ctx)
	go w.metrics.RunLoopLag(ctx, metrics.DefaultLoopLagInterval, w.trySubmit)
	errc := make(chan error, 1)
	go func() { errc <- w.server.Serve(l) }()
	select {
	case err := <-errc:
		w.stop()
		return err
	case <-ctx.Done():
	}
	if h, ok := l.(interface{ CloseHandoff() }); ok {
		h.CloseHandoff() // balancers tunnel new WebSockets while this worker drains
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	_ = w.engine.Shutdown(sctx)
	shut := make(chan error, 1)
	go func() { shut <- w.server.Shutdown(sctx) }()
	// Shutdown closed the listener, so Serve returns and no connection is accepted any more. Connections
	// that never sent a request (StateNew) would hold Shutdown for 5 s (net/http treats them as idle only
	// then): an HTTP client such as the balancer's keeps some in its pool when it dialed for a request that
	// then went out on another connection. Close them like the idle ones.
	<-errc
	w.closeUnusedConns()
	err := <-shut
	w.stop()
	if errors.Is(err, context.DeadlineExceeded) {
		_ = w.server.Close()
	}
	return nil
}

// trackConn is the server's ConnState hook.
func (w *Worker) trackConn(c net.Conn, st http.ConnState) {
	w.httpConns.Lock()
	defer w.httpConns.Unlock()
	switch st {
	case http.StateHijacked, http.StateClosed:
		delete(w.httpConns.m, c)
	default:
		if w.httpConns.m == nil {
			w.httpConns.m = make(map[net.Conn]http.ConnState)
		}
		w.httpConns.m[c] = st
	}
}

// closeUnusedConns closes the connections on which no request has arrived yet.
func (w *Worker) closeUnusedConns() {
	w.httpConns.Lock()
	defer w.httpConns.Unlock()
	for c, st := range w.httpConns.m {
		if st == http.StateNew {
			_ = c.Close()
		}
	}
}

func (w *Worker) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = w.loop.Stop(ctx)
	w.hub.close()
}

// ServeHTTP routes: /~status, the SC engine path, everything else to JS.
func (w *Worker) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.stats.httpRequests.Add(1)
	if handoff.FromContext(r.Context()) {
		// A balancer handed this connection over for this one request: a
		// second request on it would not pass the balancer (its middleware,
		// its X-Forwarded-For), so it closes after a response that is not
		// an upgrade.
		rw.Header().Set("Connection", "close")
	}
	path := r.URL.Path
	switch {
	case path == "/~status":
		w.serveStatus(rw, r)
	case path == "/~metrics":
		w.serveMetrics(rw, r)
	case strings.HasPrefix(path, w.opts.Path):
		w.js.EmitEngineRequest(r)
		w.engine.ServeHTTP(rw, r)
	default:
		if w.opts.AddSessionToHTTPRequest {
			r = w.pageSession(rw, r)
		}
		w.js.ServeHTTP(rw, r, w.serveFallback)
	}
}

func (w *Worker) serveFallback(rw http.ResponseWriter, r *http.Request) bool {
	f, ok := w.fallback[r.URL.Path]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	h := rw.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set("Content-Type", f.ContentType)
	h.Set("Cache-Control", "public, max-age=3600")
	if f.ETag != "" {
		h.Set("ETag", f.ETag)
		if r.Header.Get("If-None-Match") == f.ETag {
			rw.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(f.Body)))
	rw.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = rw.Write(f.Body)
	}
	return true
}

// checkOrigin returns the engine's per-request origin check (nil for
// *:*): every handshake, poll, POST and upgrade of the engine path must
// come from an allowed origin; refused handshakes emit the SC notice.
func (w *Worker) checkOrigin() func(*http.Request) bool {
	if w.origins.any {
		return nil
	}
	return func(r *http.Request) bool {
		if w.origins.allows(r.Header.Get("Origin"), r.Header.Get("Referer")) {
			return true
		}
		if r.URL.Query().Get("sid") == "" {
			w.js.EmitNotice("Failed to authorize socket handshake - Invalid origin: " + r.Header.Get("Origin"))
		}
		return false
	}
}

// allowRequest runs for new connections after the origin check: handshake
// middleware.
func (w *Worker) allowRequest(r *http.Request) error {
	if key := rateKey(r); !w.handshakes.allow(key) {
		w.log.Debug("handshake refused", "err", ErrHandshakeRate, "address", key)
		return ErrHandshakeRate
	}
	if err := w.js.Handshake(r); err != nil {
		w.log.Debug("handshake rejected", "err", err)
		return err
	}
	return nil
}

// generateID makes <host>_w<id>_<sourcePort>_<secure>_<random 128 bits>.
func (w *Worker) generateID(r *http.Request) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	secure := "0"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" || w.opts.Protocol == "https" {
		secure = "1"
	}
	return w.opts.Host + "_w" + strconv.Itoa(w.opts.WorkerID) + "_" + strconv.Itoa(w.opts.SourcePort) + "_" + secure + "_" +
		base64.RawURLEncoding.EncodeToString(b[:])
}

// sessionFromCookie applies spec 3.5 step 1: the ssid cookie value, else
// the socket id. Values that are not of the id shape are ignored.
func (w *Worker) sessionFromCookie(r *http.Request, socketID string) string {
	for _, h := range r.Header.Values("Cookie") {
		m := w.ssidRe.FindStringSubmatch(h)
		if m == nil {
			continue
		}
		v := unescapeJS(m[1])
		if validSessionID(v) {
			return v
		}
	}
	return socketID
}

// validSessionID accepts ids of the socket-id shape: four fields then a
// random part, printable ASCII, bounded length.
func validSessionID(v string) bool {
	if len(v) < 8 || len(v) > 200 || strings.Count(v, "_") < 4 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// unescapeJS reverses JavaScript's escape() of the ids the client writes
// into the ssid cookie (only %XX sequences occur); an invalid sequence
// leaves the value as it is.
func unescapeJS(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// onConnection binds a new engine.io socket: address limit, connect event
// (cid 1), the JavaScript socket. A failed bind sends fail and closes.
func (w *Worker) onConnection(s *engineio.Socket) {
	r := s.Request()
	c := &conn{w: w, sock: s, id: s.ID()} // subs is made on the first subscribe
	c.client = forwardedFor(r)
	c.addr = c.client
	if c.addr == "" {
		c.addr = remoteIP(r)
	}
	// the address limit charges the address the balancer saw (never one a
	// client wrote into X-Forwarded-For), like the handshake rate limit
	c.limitAddr = rateKey(r)
	c.ssid = w.adoptSession(r, c.id)
	// socket ids open polling sessions: they are logged only at Debug
	c.log = w.log
	if err := w.bind(c); err != nil {
		s.SetHandler(nopHandler{})
		c.cid.Add(1)
		_ = s.Send(`{"event":"fail","data":` + jsonString("Failed to bind socket to io cluster - "+err.Error()) + `,"cid":1}`)
		w.js.EmitNotice(err.Error())
		s.Close()
		return
	}
	w.hub.bindSession(c)
	c.handle = w.js.NewHandle()
	w.conns.Store(c, struct{}{})
	s.SetHandler(c)
	if err := w.js.Open(c.handle, c); err != nil {
		s.Close()
		return
	}
	c.cid.Add(1)
	connect := `{"event":"connect","data":{"soid":` + jsonString(c.id) + `,"appName":` + jsonString(w.opts.AppName) + `},"cid":1}`
	_ = s.Send(connect)
}

// bind counts the socket; addressSocketLimit is checked cluster-wide
// through the engine (spec 4.5).
func (w *Worker) bind(c *conn) error {
	if err := w.hub.bindAddress(c); err != nil {
		return err
	}
	w.bound.Add(1)
	return nil
}

func (w *Worker) unbind(c *conn) {
	w.bound.Add(-1)
	c.lastOfSession = w.hub.unbind(c)
}

// Status is what /~status and worker.getStatus() report.
func (w *Worker) Status() jsapi.Status {
	w.rpm.Lock()
	defer w.rpm.Unlock()
	return jsapi.Status{ClientCount: w.engine.Clients(), HTTPRPM: w.rpm.http, IORPM: w.rpm.io}
}

func (w *Worker) statusTicker(ctx context.Context) {
	t := time.NewTicker(w.opts.WorkerStatusInterval)
	defer t.Stop()
	var lastHTTP, lastIO int64
	scale := 60 / w.opts.WorkerStatusInterval.Seconds()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h, io := w.stats.httpRequests.Load(), w.stats.messagesIn.Load()
			w.rpm.Lock()
			w.rpm.http = int(float64(h-lastHTTP) * scale)
			w.rpm.io = int(float64(io-lastIO) * scale)
			w.rpm.Unlock()
			lastHTTP, lastIO = h, io
		}
	}
}

// serveStatus answers /~status (spec 6.3): body {"dataKey":"..."} must
// carry the cluster secret.
func (w *Worker) serveStatus(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, statusBodyLimit))
	if err != nil {
		rw.WriteHeader(http.StatusInternalServerError)
		return
	}
	var req struct {
		DataKey string `json:"dataKey"`
	}
	if w.opts.DataKey == "" || json.Unmarshal(body, &req) != nil ||
		subtle.ConstantTimeCompare([]byte(req.DataKey), []byte(w.opts.DataKey)) != 1 {
		rw.WriteHeader(http.StatusUnauthorized)
		_, _ = rw.Write([]byte("{}"))
		return
	}
	_ = json.NewEncoder(rw).Encode(w.Status())
}

// serveMetrics answers /~metrics in the Prometheus text format; the
// scraper must send the cluster secret as "Authorization: Bearer <key>".
func (w *Worker) serveMetrics(rw http.ResponseWriter, r *http.Request) {
	if !metrics.Authorized(r, w.opts.DataKey) {
		rw.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.metrics.Handler().ServeHTTP(rw, r)
}

// connectionsByTransport counts open connections by current transport.
func (w *Worker) connectionsByTransport() map[string]int {
	counts := map[string]int{}
	w.conns.Range(func(k, _ any) bool {
		counts[k.(*conn).Transport()]++
		return true
	})
	return counts
}

// trySubmit queues fn on the JS loop without blocking.
func (w *Worker) trySubmit(fn func()) bool {
	return w.loop.TrySubmit(func(*goja.Runtime) { fn() })
}

// Loop returns the worker's JavaScript loop (for tests and benchmarks).
func (w *Worker) Loop() *jsrt.Loop { return w.loop }

// nopHandler serves sockets whose bind failed until they are closed.
type nopHandler struct{}

func (nopHandler) OnMessage(*engineio.Socket, string) {}
func (nopHandler) OnClose(*engineio.Socket, string)   {}

// EmitWorker emits event (e.g. "leaderstart") on worker.js's worker
// object. Any goroutine.
func (w *Worker) EmitWorker(event string) error { return w.js.EmitWorker(event) }
