package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Server defaults.
const (
	// DefaultHandshakeTimeout is how long a new connection has to send a valid init frame.
	DefaultHandshakeTimeout = 5 * time.Second
	// DefaultWriteTimeout is the write deadline of one batch of outbound frames.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultMaxPendingBytes caps the outbound bytes queued for one connection; beyond it the connection is
	// closed as a slow consumer.
	DefaultMaxPendingBytes = 64 << 20
	// DefaultMaxPendingFrames caps the number of outbound frames queued for one connection.
	DefaultMaxPendingFrames = 65536
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("store: server closed")

// CloseReason says why the server closed a connection.
type CloseReason string

// Close reasons.
const (
	CloseClientGone    CloseReason = "client closed"
	CloseBadHandshake  CloseReason = "bad handshake"
	CloseBadFrame      CloseReason = "malformed frame"
	CloseSlowConsumer  CloseReason = "slow consumer"
	CloseWriteError    CloseReason = "write error"
	CloseServerClosing CloseReason = "server shutdown"
)

// ServerOptions configures a Server. Zero values mean the documented defaults.
type ServerOptions struct {
	// Secret is the cluster secret every client must present in its init frame. Required.
	Secret string
	// Store options (expiry sweep interval, run budget, clock).
	Store StoreOptions
	// MaxFrameSize bounds an inbound frame; 0 means DefaultMaxFrameSize.
	MaxFrameSize int
	// MaxPendingBytes / MaxPendingFrames bound a connection's outbound queue; 0 means the defaults.
	MaxPendingBytes  int
	MaxPendingFrames int
	// HandshakeTimeout and WriteTimeout; 0 means the defaults.
	HandshakeTimeout time.Duration
	WriteTimeout     time.Duration
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// OnCommand, if set, is called after every command a connection sent (init included) with its action and
	// outcome, from the connection's goroutine; it must be cheap (the metrics' op counters).
	OnCommand func(action string, err error)
}

// Server serves one Store over the framed protocol (see the package doc).
type Server struct {
	opts   ServerOptions
	store  *Store
	log    *slog.Logger
	secret [sha256.Size]byte

	mu     sync.Mutex
	lns    map[net.Listener]struct{}
	conns  map[*serverConn]struct{}
	closed bool
	wg     sync.WaitGroup

	// Closed counts connections closed per reason (for tests and diagnostics).
	closedMu sync.Mutex
	closedBy map[CloseReason]int
}

// NewServer returns a server with a fresh store.
func NewServer(opts ServerOptions) (*Server, error) {
	if opts.Secret == "" {
		return nil, fmt.Errorf("%w: empty secret", ErrBadArgument)
	}
	defaultIfUnset(&opts.MaxFrameSize, DefaultMaxFrameSize)
	defaultIfUnset(&opts.MaxPendingBytes, DefaultMaxPendingBytes)
	defaultIfUnset(&opts.MaxPendingFrames, DefaultMaxPendingFrames)
	defaultIfUnset(&opts.HandshakeTimeout, DefaultHandshakeTimeout)
	defaultIfUnset(&opts.WriteTimeout, DefaultWriteTimeout)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Server{
		opts:     opts,
		store:    NewStore(opts.Store),
		log:      opts.Logger.With("component", "store"),
		secret:   sha256.Sum256([]byte(opts.Secret)),
		lns:      map[net.Listener]struct{}{},
		conns:    map[*serverConn]struct{}{},
		closedBy: map[CloseReason]int{},
	}, nil
}

// Store returns the served store (for in-process use).
func (s *Server) Store() *Store { return s.store }

// ClosedCount returns how many connections were closed for reason.
func (s *Server) ClosedCount(reason CloseReason) int {
	s.closedMu.Lock()
	defer s.closedMu.Unlock()
	return s.closedBy[reason]
}

// Serve accepts connections on ln until Shutdown; it returns ErrServerClosed then.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	var tempDelay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			return err
		}
		tempDelay = 0
		sc := &serverConn{
			srv:  s,
			c:    c,
			out:  make(chan []byte, s.opts.MaxPendingFrames),
			done: make(chan struct{}),
			subs: map[string]struct{}{},
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return ErrServerClosed
		}
		s.conns[sc] = struct{}{}
		s.wg.Add(2)
		s.mu.Unlock()
		go sc.readLoop()
		go sc.writeLoop()
	}
}

// Shutdown closes the listeners and every connection, waits for their goroutines (or ctx) and stops the store's
// sweeper.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(CloseServerClosing)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.store.Close()
	return nil
}

// serverConn is one client connection: readLoop executes commands in order, writeLoop drains the bounded outbound
// queue.
type serverConn struct {
	srv     *Server
	c       net.Conn
	out     chan []byte
	pending atomic.Int64
	closing sync.Once
	done    chan struct{}
	reason  CloseReason

	subMu sync.Mutex
	subs  map[string]struct{}
}

func (sc *serverConn) close(reason CloseReason) {
	sc.closing.Do(func() {
		sc.reason = reason
		close(sc.done)
		sc.c.Close()
		sc.srv.closedMu.Lock()
		sc.srv.closedBy[reason]++
		sc.srv.closedMu.Unlock()
		if reason != CloseClientGone && reason != CloseServerClosing {
			sc.srv.log.Warn("store connection closed", "remote", sc.c.RemoteAddr().String(), "reason", string(reason))
		}
	})
}

// send queues a frame without blocking; a full queue closes the connection as a slow consumer.
func (sc *serverConn) send(v any) {
	frame, err := appendFrame(nil, v)
	if err != nil {
		sc.srv.log.Error("store: encode frame", "err", err)
		return
	}
	if sc.pending.Add(int64(len(frame))) > int64(sc.srv.opts.MaxPendingBytes) {
		sc.close(CloseSlowConsumer)
		return
	}
	select {
	case sc.out <- frame:
	case <-sc.done:
	default:
		sc.close(CloseSlowConsumer)
	}
}

// deliver implements subscriber.
func (sc *serverConn) deliver(channel string, msg json.RawMessage) {
	sc.send(&Response{Type: TypeMessage, Channel: channel, Value: msg})
}

func (sc *serverConn) writeLoop() {
	defer sc.srv.wg.Done()
	w := bufio.NewWriterSize(sc.c, 64<<10)
	for {
		select {
		case <-sc.done:
			return
		case f := <-sc.out:
			sc.c.SetWriteDeadline(time.Now().Add(sc.srv.opts.WriteTimeout))
			n := len(f)
			_, err := w.Write(f)
			for more := true; more && err == nil; {
				select {
				case f = <-sc.out:
					n += len(f)
					_, err = w.Write(f)
				default:
					more = false
				}
			}
			if err == nil {
				err = w.Flush()
			}
			sc.pending.Add(-int64(n))
			if err != nil {
				sc.close(CloseWriteError)
				return
			}
		}
	}
}

func (sc *serverConn) readLoop() {
	defer sc.srv.wg.Done()
	defer sc.cleanup()
	r := bufio.NewReaderSize(sc.c, 64<<10)
	sc.c.SetReadDeadline(time.Now().Add(sc.srv.opts.HandshakeTimeout))
	if !sc.handshake(r) {
		return
	}
	sc.c.SetReadDeadline(time.Time{})
	for {
		body, err := readFrame(r, sc.srv.opts.MaxFrameSize)
		if err != nil {
			if errors.Is(err, ErrFrameTooLarge) {
				sc.close(CloseBadFrame)
			} else {
				sc.close(CloseClientGone)
			}
			return
		}
		req, err := parseRequest(body)
		if err != nil {
			sc.send(&Response{Type: TypeResponse, Error: err.Error()})
			continue
		}
		sc.handle(req)
	}
}

func (sc *serverConn) handshake(r io.Reader) bool {
	body, err := readFrame(r, sc.srv.opts.MaxFrameSize)
	if err != nil {
		sc.close(CloseBadHandshake)
		return false
	}
	req, err := parseRequest(body)
	if err != nil || req.Action != ActionInit {
		sc.refuse(req, ErrNotInitialized)
		return false
	}
	got := sha256.Sum256([]byte(req.Secret))
	if subtle.ConstantTimeCompare(got[:], sc.srv.secret[:]) != 1 {
		sc.refuse(req, ErrBadSecret)
		return false
	}
	sc.send(&Response{ID: req.ID, Type: TypeResponse, Action: ActionInit})
	return true
}

// refuse answers a failed handshake and closes the connection once the answer is written (bounded by the write
// timeout).
func (sc *serverConn) refuse(req *Request, err error) {
	res := &Response{Type: TypeResponse, Error: err.Error()}
	if req != nil {
		res.ID, res.Action = req.ID, req.Action
	}
	if frame, ferr := appendFrame(nil, res); ferr == nil {
		sc.c.SetWriteDeadline(time.Now().Add(sc.srv.opts.WriteTimeout))
		sc.c.Write(frame)
	}
	sc.close(CloseBadHandshake)
}

func (sc *serverConn) handle(req *Request) {
	var (
		val json.RawMessage
		err error
	)
	switch req.Action {
	case ActionInit:
		// A repeated init is harmless.
	case ActionSubscribe, ActionUnsubscribe:
		sc.subMu.Lock()
		if req.Action == ActionSubscribe {
			sc.subs[req.Channel] = struct{}{}
			sc.srv.store.subscribe(req.Channel, sc)
		} else {
			delete(sc.subs, req.Channel)
			sc.srv.store.unsubscribe(req.Channel, sc)
		}
		sc.subMu.Unlock()
	case ActionPublish:
		n := sc.srv.store.Publish(req.Channel, orNull(req.Value))
		val = json.RawMessage(fmt.Sprint(n))
	default:
		val, err = sc.srv.store.Exec(req)
	}
	if sc.srv.opts.OnCommand != nil {
		sc.srv.opts.OnCommand(req.Action, err)
	}
	if req.NoAck {
		return
	}
	res := &Response{ID: req.ID, Type: TypeResponse, Action: req.Action, Value: val}
	if err != nil {
		res.Error = err.Error()
	}
	sc.send(res)
}

// cleanup drops the connection's subscriptions.
func (sc *serverConn) cleanup() {
	sc.close(CloseClientGone)
	sc.subMu.Lock()
	for ch := range sc.subs {
		sc.srv.store.unsubscribe(ch, sc)
	}
	sc.subs = map[string]struct{}{}
	sc.subMu.Unlock()
	sc.srv.mu.Lock()
	delete(sc.srv.conns, sc)
	sc.srv.mu.Unlock()
}

// ListenAndServe listens on network ("tcp" or "unix") and address, serves a new store until ctx ends, then shuts
// it down (waiting up to DefaultWriteTimeout). A UNIX socket file at address that nobody answers on (left by a crashed store) is removed first. This is the
// body of the `socketcluster store` child process.
func ListenAndServe(ctx context.Context, network, address string, opts ServerOptions) error {
	srv, err := NewServer(opts)
	if err != nil {
		return err
	}
	if network == "unix" {
		if fi, err := os.Lstat(address); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if c, err := net.DialTimeout("unix", address, time.Second); err == nil {
				c.Close() // a live store owns it: let Listen report the conflict
			} else {
				os.Remove(address)
			}
		}
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		srv.store.Close()
		return fmt.Errorf("store: listen %s %s: %w", network, address, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		sctx, cancel := context.WithTimeout(context.Background(), DefaultWriteTimeout)
		defer cancel()
		srv.Shutdown(sctx)
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), DefaultWriteTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, ErrServerClosed) {
		return err
	}
	return nil
}
