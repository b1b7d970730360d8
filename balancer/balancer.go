package balancer

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/socketcluster-go/socketcluster/cluster/handoff"
)

// Defaults of the balancer's timeouts and limits.
const (
	// DefaultDialTimeout bounds a connection attempt to a worker (loopback).
	DefaultDialTimeout = 5 * time.Second
	// DefaultReadHeaderTimeout bounds how long a client may take to send
	// its request headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultMaxHeaderBytes bounds the request headers.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultIdleTimeout closes idle keep-alive client connections.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultEnginePath is SocketCluster's endpoint path.
	DefaultEnginePath = "/socketcluster/"
	// DefaultNoWorkerWait is how long a request waits for a worker when
	// none is live.
	DefaultNoWorkerWait = 5 * time.Second
	// DefaultTunnelLinger is how long a tunnel's second direction may stay
	// open after the first one ended.
	DefaultTunnelLinger = 5 * time.Second
	// tunnelPoll is how often Serve checks for tunnels left at shutdown.
	tunnelPoll = 20 * time.Millisecond
	// maxRetries bounds how many other workers a refused request tries.
	maxRetries = 2
	// maxIdlePerWorker is the keep-alive pool size to each worker.
	maxIdlePerWorker = 256
	// maxStickyIDLen bounds the id text looked at for routing.
	maxStickyIDLen = 256
)

// ErrNoWorker is returned (as a 503) when no live worker can take a request.
var ErrNoWorker = errors.New("no live worker")

// Config configures a Balancer. The zero value of each field means its
// default.
type Config struct {
	// AppName names the session cookie n/<AppName>/ssid used for routing.
	AppName string
	// EnginePath is the SC endpoint path (default DefaultEnginePath). New
	// engine.io sessions under it go to the least loaded worker; other HTTP
	// requests without a session id stick to a worker chosen by a hash of
	// the client's address, so one client's plain requests meet the same
	// per-worker state (e.g. an in-memory HTTP session store).
	EnginePath string
	Logger     *slog.Logger
	// TLS, when set, makes Serve terminate TLS (protocol 'https').
	TLS         *tls.Config
	DialTimeout time.Duration
	// HeaderTimeout bounds how long a client may take to send its request
	// headers (slowloris guard); zero means DefaultReadHeaderTimeout.
	HeaderTimeout time.Duration
	// NoWorkerWait is how long a request waits while no worker is live
	// (default DefaultNoWorkerWait; negative: answer 503 at once).
	NoWorkerWait time.Duration
	// Request runs before an HTTP request is proxied; returning false
	// means it answered (or rejected) the request itself.
	Request func(w http.ResponseWriter, r *http.Request) bool
	// Upgrade runs before a WebSocket upgrade is tunnelled; returning
	// false means it answered (or rejected) the request itself.
	Upgrade func(w http.ResponseWriter, r *http.Request) bool
	// ProxyError runs when a worker cannot be reached; returning false
	// means it wrote the response itself. Default: 500 "Load balancer
	// error - <message>".
	ProxyError func(w http.ResponseWriter, r *http.Request, err error) bool
}

// target is one live worker.
type target struct {
	id     int
	addr   string
	entry  string          // the table entry: addr and the handoff socket
	sender *handoff.Sender // nil: the worker takes no handoffs
	pool   enginePool      // idle connections of the polling proxy
	active atomic.Int64    // open requests and tunnels through this balancer
	// reported is the worker's open connections as its last handoff answer
	// told (handed-off WebSockets never pass through active), plus the one
	// that answer was about.
	reported atomic.Int64
	down     atomic.Bool // a dial was refused; skipped until the next table
}

// load is what the least-loaded pick compares: the worker's last reported
// connections plus this balancer's requests and tunnels in flight to it.
func (t *target) load() int64 { return t.active.Load() + t.reported.Load() }

// Balancer routes requests to the live workers.
type Balancer struct {
	cfg       Config
	log       *slog.Logger
	ssidName  string
	transport *http.Transport
	proxy     *httputil.ReverseProxy
	dialer    *net.Dialer

	mu      sync.RWMutex
	changed chan struct{} // closed and replaced by every SetWorkers
	workers map[int]*target
	order   []*target // by id
	rr      atomic.Uint64

	tunnelMu sync.Mutex
	tunnels  map[*tunnel]struct{} // nil once Serve stopped taking tunnels

	draining atomic.Bool // Serve is stopping: no more handoffs
}

// New makes a balancer with an empty worker table.
func New(cfg Config) *Balancer {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.NoWorkerWait == 0 {
		cfg.NoWorkerWait = DefaultNoWorkerWait
	}
	if cfg.EnginePath == "" {
		cfg.EnginePath = DefaultEnginePath
	}
	if !strings.HasPrefix(cfg.EnginePath, "/") {
		cfg.EnginePath = "/" + cfg.EnginePath
	}
	if !strings.HasSuffix(cfg.EnginePath, "/") {
		cfg.EnginePath += "/"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	b := &Balancer{
		cfg:      cfg,
		log:      log,
		ssidName: "n/" + cfg.AppName + "/ssid",
		dialer:   d,
		transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConns:        4 * maxIdlePerWorker,
			MaxIdleConnsPerHost: maxIdlePerWorker,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		workers: make(map[int]*target),
		tunnels: make(map[*tunnel]struct{}),
		changed: make(chan struct{}),
	}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			t := pr.In.Context().Value(targetKey{}).(*target)
			pr.SetURL(&url.URL{Scheme: "http", Host: t.addr})
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			if p := localPort(pr.In); p != "" {
				pr.Out.Header.Set("X-Forwarded-Port", p)
			}
		},
		Transport:     retryTransport{b},
		FlushInterval: -1,
		BufferPool:    proxyBufferPool{},
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			t, _ := r.Context().Value(targetKey{}).(*target)
			b.proxyError(t, w, r, err)
		},
	}
	return b
}

// targetKey carries the chosen *target in a request's context.
type targetKey struct{}

// retryTransport moves a request whose worker refused the connection (it
// just died or is stopping) to another live worker. Only requests without
// a body are moved: nothing was sent, so nothing can happen twice.
type retryTransport struct{ b *Balancer }

func (rt retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := rt.b.transport.RoundTrip(req)
	tried := map[*target]bool{}
	for attempt := 0; attempt < maxRetries && isDialError(err) && (req.Body == nil || req.Body == http.NoBody); attempt++ {
		t, _ := req.Context().Value(targetKey{}).(*target)
		if t != nil {
			t.down.Store(true)
			tried[t] = true
		}
		alt := rt.b.pickOther(tried)
		if alt == nil {
			break
		}
		rt.b.log.Debug("worker refused: retrying on another", "from", workerName(t), "to", alt.id)
		req = req.Clone(context.WithValue(req.Context(), targetKey{}, alt))
		req.URL.Host = alt.addr
		res, err = rt.b.transport.RoundTrip(req)
	}
	return res, err
}

// isDialError reports whether err is a failed connection to a worker. Running out of descriptors in this
// process (EMFILE, ENFILE) is not the worker's fault: it must not mark the worker down, which would refuse
// every new request for lack of a live worker.
func isDialError(err error) bool {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		return false
	}
	return !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE)
}

// pickOther returns the least loaded live worker not in tried.
func (b *Balancer) pickOther(tried map[*target]bool) *target {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var best *target
	for _, t := range b.order {
		if tried[t] || t.down.Load() {
			continue
		}
		if best == nil || t.load() < best.load() {
			best = t
		}
	}
	return best
}

// SetWorkers replaces the table of live workers (id -> host:port, or
// handoff.JoinEntry of host:port and the worker's handoff socket). Open
// counters of unchanged entries are kept. Any goroutine.
func (b *Balancer) SetWorkers(table map[int]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	next := make(map[int]*target, len(table))
	order := make([]*target, 0, len(table))
	for id, entry := range table {
		t := b.workers[id]
		if t == nil || t.entry != entry {
			t = b.newTarget(id, entry)
		}
		next[id] = t
		order = append(order, t)
	}
	for id, t := range b.workers {
		if next[id] != t {
			t.closeConns()
		}
	}
	sort.Slice(order, func(i, j int) bool { return order[i].id < order[j].id })
	b.workers = next
	b.order = order
	close(b.changed)
	b.changed = make(chan struct{})
}

// Workers returns a copy of the live table.
func (b *Balancer) Workers() map[int]string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	m := make(map[int]string, len(b.workers))
	for id, t := range b.workers {
		m[id] = t.entry
	}
	return m
}

func (b *Balancer) newTarget(id int, entry string) *target {
	addr, path := handoff.SplitEntry(entry)
	t := &target{id: id, addr: addr, entry: entry}
	if path != "" && handoff.Supported {
		t.sender = handoff.NewSender(path)
	}
	return t
}

// ServeHTTP routes one request.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	upgrade := isUpgrade(r)
	if upgrade && b.cfg.Upgrade != nil && !b.cfg.Upgrade(w, r) {
		return
	}
	if !upgrade && b.cfg.Request != nil && !b.cfg.Request(w, r) {
		return
	}
	t := b.pickWait(r)
	if t == nil {
		b.proxyError(nil, w, r, ErrNoWorker)
		return
	}
	t.active.Add(1)
	defer t.active.Add(-1)
	if upgrade {
		if b.canHandoff(t, r) && b.handoff(t, w, r) {
			return
		}
		b.tunnel(t, w, r)
		return
	}
	if b.leanEngine(r) {
		b.serveEngine(t, w, r)
		return
	}
	b.reverseProxy(t, w, r)
}

// reverseProxy serves r through the ReverseProxy on t: requests the lean
// path does not take, and lean ones whose worker could not be dialled (the
// ReverseProxy retries other workers).
func (b *Balancer) reverseProxy(t *target, w http.ResponseWriter, r *http.Request) {
	b.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, t)))
}

// pickWait is pick, but with no live worker at all (the cluster is booting,
// or its only worker is being replaced) it waits up to DefaultNoWorkerWait
// for a new table.
func (b *Balancer) pickWait(r *http.Request) *target {
	var timer *time.Timer
	for {
		b.mu.RLock()
		changed := b.changed
		b.mu.RUnlock()
		if t := b.pick(r); t != nil || b.cfg.NoWorkerWait < 0 {
			return t
		}
		if timer == nil {
			timer = time.NewTimer(b.cfg.NoWorkerWait)
			defer timer.Stop()
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil
		case <-r.Context().Done():
			return nil
		}
	}
}

// pick returns the worker named by the request's session id if it is live,
// else the least loaded live worker; nil when none is live.
func (b *Balancer) pick(r *http.Request) *target {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if id, ok := b.stickyWorker(r); ok {
		if t := b.workers[id]; t != nil && !t.down.Load() {
			return t
		}
	}
	n := len(b.order)
	if n == 0 {
		return nil
	}
	if !strings.HasPrefix(r.URL.Path, b.cfg.EnginePath) {
		return b.byAddress(clientIP(r))
	}
	start := int(b.rr.Add(1) % uint64(n))
	var best *target
	var bestLoad int64
	for i := 0; i < n; i++ {
		t := b.order[(start+i)%n]
		if t.down.Load() {
			continue
		}
		if l := t.load(); best == nil || l < bestLoad {
			best, bestLoad = t, l
		}
	}
	return best
}

// byAddress picks a live worker by a hash of the client's IP address.
// Caller holds b.mu.
func (b *Balancer) byAddress(ip string) *target {
	var buf [16]*target // the usual table fits: no allocation per request
	live := buf[:0]
	for _, t := range b.order {
		if !t.down.Load() {
			live = append(live, t)
		}
	}
	if len(live) == 0 {
		return nil
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(ip)) // a direct call: h and the bytes stay on the stack
	return live[h.Sum32()%uint32(len(live))]
}

// stickyWorker finds the worker id in the sid query parameter or the
// session cookie.
func (b *Balancer) stickyWorker(r *http.Request) (int, bool) {
	if sid := queryParam(r.URL.RawQuery, "sid"); sid != "" {
		if id, ok := WorkerFromID(sid); ok {
			return id, true
		}
	}
	for _, h := range r.Header.Values("Cookie") {
		if v, ok := cookieValue(h, b.ssidName); ok {
			if id, ok := WorkerFromID(v); ok {
				return id, true
			}
		}
	}
	return 0, false
}

// queryParam returns the first value of name in a raw query without
// allocating a url.Values.
func queryParam(raw, name string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == name {
			if u, err := url.QueryUnescape(v); err == nil {
				return u
			}
			return ""
		}
	}
	return ""
}

// cookieValue finds name=value in one Cookie header (names with '/' are
// not valid cookie tokens, so net/http's parser cannot be used).
func cookieValue(header, name string) (string, bool) {
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k == name {
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
			return v, true
		}
	}
	return "", false
}

// WorkerFromID extracts the worker id from a socket or session id
// "<host>_w<id>_<port>_<secure>_<random>". It accepts only a 'w' followed
// by 1-6 decimal digits in field 2.
func WorkerFromID(id string) (int, bool) {
	if len(id) > maxStickyIDLen {
		return 0, false
	}
	_, rest, ok := strings.Cut(id, "_")
	if !ok {
		return 0, false
	}
	f, _, ok := strings.Cut(rest, "_")
	if !ok || len(f) < 2 || len(f) > 7 || f[0] != 'w' || (len(f) > 2 && f[1] == '0') {
		// ids are written without leading zeros (w0, w12); anything else
		// was not issued by a worker
		return 0, false
	}
	n := 0
	for _, c := range f[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		valuesHaveToken(r.Header["Connection"], "upgrade")
}

func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			return p
		}
	}
	return ""
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// proxyError answers a request that could not be proxied. A refused dial
// marks the worker down until the master sends a new table.
func (b *Balancer) proxyError(t *target, w http.ResponseWriter, r *http.Request, err error) {
	if t != nil && errors.Is(err, syscall.ECONNREFUSED) {
		t.down.Store(true)
	}
	if errors.Is(err, context.Canceled) {
		b.log.Debug("client went away", "err", err)
		return
	}
	if errors.Is(err, ErrNoWorker) {
		b.mu.RLock()
		known := len(b.order)
		b.mu.RUnlock()
		b.log.Warn("proxy error", "worker", "none", "err", err, "table", known)
	} else {
		b.log.Warn("proxy error", "worker", workerName(t), "err", err)
	}
	if b.cfg.ProxyError != nil && !b.cfg.ProxyError(w, r, err) {
		return
	}
	status := http.StatusInternalServerError
	if errors.Is(err, ErrNoWorker) {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "Load balancer error - "+errorText(err))
}

func errorText(err error) string {
	if errors.Is(err, ErrNoWorker) {
		return ErrNoWorker.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Op + ": " + op.Err.Error()
	}
	return "upstream failed"
}

func workerName(t *target) string {
	if t == nil {
		return "none"
	}
	return strconv.Itoa(t.id)
}

// tunnel forwards a WebSocket upgrade request to t and splices the two
// connections until either side closes.
func (b *Balancer) tunnel(t *target, w http.ResponseWriter, r *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		b.proxyError(t, w, r, errors.New("connection cannot be hijacked"))
		return
	}
	backend, t, release, err := b.dialWorker(r.Context(), t)
	defer release()
	if err != nil {
		b.proxyError(t, w, r, err)
		return
	}
	out := forwardedRequest(r)
	_ = backend.SetWriteDeadline(time.Now().Add(b.cfg.DialTimeout))
	bw := bufio.NewWriter(backend)
	if err := out.Write(bw); err == nil {
		err = bw.Flush()
	}
	if err != nil {
		backend.Close()
		b.proxyError(t, w, r, err)
		return
	}
	_ = backend.SetWriteDeadline(time.Time{})
	client, brw, err := hj.Hijack()
	if err != nil {
		backend.Close()
		b.log.Debug("hijack failed", "err", err)
		return
	}
	if n := brw.Reader.Buffered(); n > 0 {
		head, _ := brw.Reader.Peek(n)
		if _, err := backend.Write(head); err != nil {
			backend.Close()
			client.Close()
			return
		}
	}
	b.startTunnel(t, &tunnel{client: client, backend: backend})
}

// dialWorker connects to t or, when t refuses, to up to maxRetries other
// live workers; it returns the worker connected to. release ends the load
// accounting of the alternatives tried.
func (b *Balancer) dialWorker(ctx context.Context, t *target) (net.Conn, *target, func(), error) {
	var alts []*target
	release := func() {
		for _, a := range alts {
			a.active.Add(-1)
		}
	}
	backend, err := b.dialer.DialContext(ctx, "tcp", t.addr)
	tried := map[*target]bool{}
	for attempt := 0; attempt < maxRetries && isDialError(err); attempt++ {
		t.down.Store(true)
		tried[t] = true
		alt := b.pickOther(tried)
		if alt == nil {
			break
		}
		alt.active.Add(1)
		alts = append(alts, alt)
		t = alt
		backend, err = b.dialer.DialContext(ctx, "tcp", t.addr)
	}
	return backend, t, release, err
}

// startTunnel runs tn on its own goroutine so that the request's net/http
// goroutine ends and its connection state (a 4 KB read buffer, the hijack's
// write buffer, the request) is released for the tunnel's life.
func (b *Balancer) startTunnel(t *target, tn *tunnel) {
	if !b.addTunnel(tn) {
		tn.close()
		return
	}
	t.active.Add(1)
	go func() {
		defer t.active.Add(-1)
		defer b.removeTunnel(tn)
		tn.run()
	}()
}

// forwardedRequest is the upgrade request as a worker gets it: the client's
// head plus X-Forwarded-For (the client's address appended), -Proto, -Host
// and -Port.
func forwardedRequest(r *http.Request) *http.Request {
	out := r.Clone(context.Background())
	out.Body = nil
	out.ContentLength = 0
	prior := out.Header.Get("X-Forwarded-For")
	ip := clientIP(r)
	if prior != "" {
		ip = prior + ", " + ip
	}
	out.Header.Set("X-Forwarded-For", ip)
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	out.Header.Set("X-Forwarded-Proto", proto)
	out.Header.Set("X-Forwarded-Host", r.Host)
	if p := localPort(r); p != "" {
		out.Header.Set("X-Forwarded-Port", p)
	}
	return out
}

// tunnel is one spliced client <-> worker connection pair.
type tunnel struct {
	client, backend net.Conn
	once            sync.Once
}

// run copies both ways. When the worker ends its side there is nothing
// left for the client to say: both connections close at once. When the
// client ends its side, the worker gets a half-close and DefaultTunnelLinger
// to finish.
func (tn *tunnel) run() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		pump(tn.backend, tn.client)
		closeWrite(tn.backend)
		tn.linger()
	}()
	pump(tn.client, tn.backend)
	tn.close()
	<-done
}

// linger bounds the other direction once one direction has ended.
func (tn *tunnel) linger() {
	dl := time.Now().Add(DefaultTunnelLinger)
	_ = tn.client.SetReadDeadline(dl)
	_ = tn.backend.SetReadDeadline(dl)
}

func (tn *tunnel) close() {
	tn.once.Do(func() {
		_ = tn.client.Close()
		_ = tn.backend.Close()
	})
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}

func (b *Balancer) addTunnel(tn *tunnel) bool {
	b.tunnelMu.Lock()
	defer b.tunnelMu.Unlock()
	if b.tunnels == nil {
		return false
	}
	b.tunnels[tn] = struct{}{}
	return true
}

func (b *Balancer) removeTunnel(tn *tunnel) {
	b.tunnelMu.Lock()
	delete(b.tunnels, tn)
	b.tunnelMu.Unlock()
}

// openTunnels counts the tunnels; after stop it refuses new ones.
func (b *Balancer) openTunnels(stop bool) int {
	b.tunnelMu.Lock()
	defer b.tunnelMu.Unlock()
	n := len(b.tunnels)
	if stop && n == 0 {
		b.tunnels = nil
	}
	return n
}

// Serve answers on l until ctx is done, then stops accepting, lets open
// requests and tunnels finish within grace and closes what is left.
func (b *Balancer) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	if b.cfg.TLS != nil {
		l = tls.NewListener(l, b.cfg.TLS)
	}
	srv := &http.Server{
		Handler:           b,
		ReadHeaderTimeout: b.headerTimeout(),
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		IdleTimeout:       DefaultIdleTimeout,
		ErrorLog:          slog.NewLogLogger(b.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	b.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	// Tunnels end when their worker closes them; wait within grace, then
	// close the rest and wait for their goroutines.
	tick := time.NewTicker(tunnelPoll)
	defer tick.Stop()
	for b.openTunnels(true) > 0 {
		select {
		case <-tick.C:
			continue
		case <-sctx.Done():
		}
		b.tunnelMu.Lock()
		for tn := range b.tunnels {
			tn.close()
		}
		b.tunnelMu.Unlock()
		<-tick.C
	}
	b.transport.CloseIdleConnections()
	b.closeWorkerConns()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("balancer: %w", serveErr)
	}
	return nil
}

func (b *Balancer) headerTimeout() time.Duration {
	if b.cfg.HeaderTimeout > 0 {
		return b.cfg.HeaderTimeout
	}
	return DefaultReadHeaderTimeout
}
