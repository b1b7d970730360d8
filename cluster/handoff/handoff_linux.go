//go:build linux

package handoff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Supported reports whether this platform can hand connections over.
const Supported = true

// unixNet is the socket type: message boundaries keep one payload and its
// descriptor together.
const unixNet = "unixpacket"

// acceptRetry is the pause after a failed accept on the handoff socket
// (e.g. out of descriptors) before the next one.
const acceptRetry = 10 * time.Millisecond

// Sender hands connections to the worker listening on one socket path.
type Sender struct {
	path string
	// AckTimeout bounds the wait for the worker's answer (default
	// DefaultAckTimeout); set it before the first Send.
	AckTimeout time.Duration
	// IdleTimeout closes connections idle this long (default
	// DefaultSenderIdle); set it before the first Send.
	IdleTimeout time.Duration

	mu     sync.Mutex
	idle   []idleConn // most recently used last
	reaper *time.Timer
	closed bool
}

type idleConn struct {
	uc   *net.UnixConn
	used time.Time
}

// NewSender makes a sender to the handoff socket at path. Nothing is dialed
// before the first Send.
func NewSender(path string) *Sender { return &Sender{path: path} }

// Path returns the socket path.
func (s *Sender) Path() string { return s.path }

// Send hands c (a *net.TCPConn) with payload to the worker. On nil the
// worker serves the connection and the caller must close its copy and
// nothing else. On ErrUnconfirmed the caller must close its copy too (the
// worker may serve it). On any other error the worker does not have it.
func (s *Sender) Send(c net.Conn, payload []byte) error {
	_, err := s.SendLoad(c, payload)
	return err
}

// SendLoad is Send that also returns the load the worker reported in its
// answer (NoLoad when it reported none, or on an error but ErrRefused).
func (s *Sender) SendLoad(c net.Conn, payload []byte) (int, error) {
	if len(payload) > MaxMessage {
		return NoLoad, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(payload), MaxMessage)
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return NoLoad, ErrNotTCP
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return NoLoad, fmt.Errorf("handoff: %w", err)
	}
	timeout := s.AckTimeout
	if timeout <= 0 {
		timeout = DefaultAckTimeout
	}
	for attempt := 0; ; attempt++ {
		uc, pooled, err := s.get()
		if err != nil {
			return NoLoad, err
		}
		var werr error
		if cerr := rc.Control(func(fd uintptr) {
			_, _, werr = uc.WriteMsgUnix(payload, syscall.UnixRights(int(fd)), nil)
		}); cerr != nil {
			s.put(uc)
			return NoLoad, fmt.Errorf("handoff: client connection: %w", cerr)
		}
		if werr != nil {
			_ = uc.Close()
			if pooled && attempt == 0 {
				continue // the worker closed an idle connection: nothing was sent
			}
			return NoLoad, fmt.Errorf("handoff: send to %s: %w", s.path, werr)
		}
		_ = uc.SetReadDeadline(time.Now().Add(timeout))
		var answer [AnswerSize + 1]byte
		n, err := uc.Read(answer[:])
		ack, load, ok := decodeAnswer(answer[:n])
		if err != nil || !ok {
			_ = uc.Close()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return NoLoad, fmt.Errorf("%w: no answer from %s within %v", ErrUnconfirmed, s.path, timeout)
			}
			// The worker answers every message it read before it closes
			// its end: a close without an answer means the message (and the
			// descriptor) was dropped unread.
			if pooled && attempt == 0 {
				continue
			}
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return NoLoad, fmt.Errorf("handoff: answer from %s: %w", s.path, err)
		}
		_ = uc.SetReadDeadline(time.Time{})
		s.put(uc)
		switch ack {
		case AckAccepted:
			return load, nil
		case AckRefused:
			return load, ErrRefused
		default:
			return NoLoad, ErrBadMessage
		}
	}
}

func (s *Sender) get() (*net.UnixConn, bool, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, false, ErrClosed
	}
	if n := len(s.idle); n > 0 {
		uc := s.idle[n-1].uc
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return uc, true, nil
	}
	s.mu.Unlock()
	c, err := net.DialTimeout(unixNet, s.path, DefaultDialTimeout)
	if err != nil {
		return nil, false, fmt.Errorf("handoff: dial: %w", err)
	}
	return c.(*net.UnixConn), false, nil
}

func (s *Sender) put(uc *net.UnixConn) {
	s.mu.Lock()
	if s.closed || len(s.idle) >= DefaultIdleConns {
		s.mu.Unlock()
		_ = uc.Close()
		return
	}
	s.idle = append(s.idle, idleConn{uc: uc, used: time.Now()})
	if s.reaper == nil {
		s.reaper = time.AfterFunc(s.idleTimeout(), s.reap)
	}
	s.mu.Unlock()
}

func (s *Sender) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return DefaultSenderIdle
}

// reap closes the connections idle for the idle timeout and runs again
// while some are left.
func (s *Sender) reap() {
	s.mu.Lock()
	cut := time.Now().Add(-s.idleTimeout())
	n := 0
	for n < len(s.idle) && s.idle[n].used.Before(cut) {
		_ = s.idle[n].uc.Close()
		n++
	}
	s.idle = append(s.idle[:0], s.idle[n:]...)
	if len(s.idle) > 0 && !s.closed {
		s.reaper.Reset(s.idleTimeout())
	} else {
		s.reaper = nil
	}
	s.mu.Unlock()
}

// Close closes the idle connections; later Sends fail with ErrClosed.
func (s *Sender) Close() {
	s.mu.Lock()
	idle := s.idle
	s.idle, s.closed = nil, true
	if s.reaper != nil {
		s.reaper.Stop()
		s.reaper = nil
	}
	s.mu.Unlock()
	for _, ic := range idle {
		_ = ic.uc.Close()
	}
}

// Config configures a Listener. Zero values mean the defaults.
type Config struct {
	// Path is the handoff socket path (its directory should be 0700). A
	// socket left there by a previous process is replaced.
	Path   string
	Logger *slog.Logger
	// MaxMessage bounds a payload (default MaxMessage).
	MaxMessage int
	// IdleTimeout closes a sender's connection after this long without a
	// message (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Load, when set, is the worker's load (e.g. its open connections),
	// sent with every answer; see also SetLoad.
	Load func() int
}

// accepted is one result for Accept.
type accepted struct {
	c   net.Conn
	err error
}

// Listener accepts the connections of a TCP listener and those handed over
// on its Unix socket.
type Listener struct {
	tcp  net.Listener
	unix *net.UnixListener
	cfg  Config
	log  *slog.Logger

	conns chan accepted
	done  chan struct{} // closed by Close
	hdone chan struct{} // closed by CloseHandoff and Close
	once  sync.Once
	honce sync.Once
	wg    sync.WaitGroup

	mu    sync.Mutex
	peers map[*net.UnixConn]struct{} // nil once closed

	received atomic.Int64 // messages turned into connections (for tests)

	load atomic.Pointer[func() int] // nil: answers carry no load
}

// SetLoad sets the function whose result every later answer carries (nil:
// none). Any goroutine.
func (l *Listener) SetLoad(f func() int) {
	if f == nil {
		l.load.Store(nil)
		return
	}
	l.load.Store(&f)
}

// currentLoad is the load to answer with (NoLoad when there is no function).
func (l *Listener) currentLoad() int {
	f := l.load.Load()
	if f == nil {
		return NoLoad
	}
	if n := (*f)(); n >= 0 {
		return n
	}
	return 0
}

// Listen opens the handoff socket at cfg.Path and returns a listener merging
// it with tcp. Closing it closes tcp too.
func Listen(tcp net.Listener, cfg Config) (*Listener, error) {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = MaxMessage
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if fi, err := os.Lstat(cfg.Path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(cfg.Path)
	}
	ul, err := net.ListenUnix(unixNet, &net.UnixAddr{Name: cfg.Path, Net: unixNet})
	if err != nil {
		return nil, fmt.Errorf("handoff: listen: %w", err)
	}
	ul.SetUnlinkOnClose(true)
	if err := os.Chmod(cfg.Path, 0o600); err != nil {
		_ = ul.Close()
		return nil, fmt.Errorf("handoff: %w", err)
	}
	l := &Listener{
		tcp:   tcp,
		unix:  ul,
		cfg:   cfg,
		log:   log,
		conns: make(chan accepted),
		done:  make(chan struct{}),
		hdone: make(chan struct{}),
		peers: make(map[*net.UnixConn]struct{}),
	}
	l.SetLoad(cfg.Load)
	l.wg.Add(2)
	go l.acceptTCP()
	go l.acceptUnix()
	return l, nil
}

// Accept returns the next TCP or handed-off connection (a *Conn).
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case a := <-l.conns:
		return a.c, a.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Addr is the TCP listener's address.
func (l *Listener) Addr() net.Addr { return l.tcp.Addr() }

// Path is the handoff socket's path.
func (l *Listener) Path() string { return l.cfg.Path }

// CloseHandoff stops taking handoffs (a stopping worker: the balancers keep
// their connections and tunnel them) while the TCP listener stays open.
// Messages already read are still delivered to Accept.
func (l *Listener) CloseHandoff() {
	l.honce.Do(func() {
		close(l.hdone)
		_ = l.unix.Close()
		l.mu.Lock()
		for uc := range l.peers {
			// wakes the reader; a message being answered is answered first
			_ = uc.SetReadDeadline(time.Now())
		}
		l.peers = nil
		l.mu.Unlock()
	})
}

// Close stops both listeners and refuses handoffs still in flight (their
// senders keep the connections), then waits for its goroutines.
func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		_ = l.tcp.Close()
		l.CloseHandoff()
	})
	l.wg.Wait()
	return nil
}

func (l *Listener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *Listener) handoffClosed() bool {
	select {
	case <-l.hdone:
		return true
	default:
		return false
	}
}

func (l *Listener) acceptTCP() {
	defer l.wg.Done()
	for {
		c, err := l.tcp.Accept()
		if err != nil && l.closed() {
			return
		}
		select {
		case l.conns <- accepted{c: c, err: err}:
		case <-l.done:
			if c != nil {
				_ = c.Close()
			}
			return
		}
		var ne net.Error
		if err != nil && (!errors.As(err, &ne) || !ne.Timeout() && !isTemporary(err)) {
			return
		}
	}
}

// isTemporary reports the accept errors net/http retries (descriptors).
func isTemporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

func (l *Listener) acceptUnix() {
	defer l.wg.Done()
	for {
		uc, err := l.unix.AcceptUnix()
		if err != nil {
			if l.handoffClosed() {
				return
			}
			l.log.Warn("handoff accept failed", "err", err)
			select {
			case <-time.After(acceptRetry):
			case <-l.hdone:
				return
			}
			continue
		}
		if err := checkPeer(uc); err != nil {
			l.log.Warn("handoff connection refused", "err", err)
			_ = uc.Close()
			continue
		}
		l.mu.Lock()
		if l.peers == nil {
			l.mu.Unlock()
			_ = uc.Close()
			return
		}
		l.peers[uc] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go l.serveSender(uc)
	}
}

// checkPeer accepts only processes of this process's user.
func checkPeer(uc *net.UnixConn) error {
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("handoff: SO_PEERCRED: %w", cerr)
	}
	if uid := os.Getuid(); int(cred.Uid) != uid {
		return fmt.Errorf("%w: uid %d (pid %d), want %d", ErrPeer, cred.Uid, cred.Pid, uid)
	}
	return nil
}

// serveSender receives the handoffs of one sender connection and answers
// each one.
func (l *Listener) serveSender(uc *net.UnixConn) {
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		if l.peers != nil {
			delete(l.peers, uc)
		}
		l.mu.Unlock()
		_ = uc.Close()
	}()
	buf := make([]byte, l.cfg.MaxMessage+1)
	oob := make([]byte, syscall.CmsgSpace(maxFDs*4))
	for !l.handoffClosed() {
		_ = uc.SetReadDeadline(time.Now().Add(l.cfg.IdleTimeout))
		n, oobn, flags, _, err := uc.ReadMsgUnix(buf, oob)
		if err != nil || (n == 0 && oobn == 0) {
			var ne net.Error
			if err != nil && !errors.Is(err, io.EOF) && !(errors.As(err, &ne) && ne.Timeout()) {
				l.log.Debug("handoff connection ended", "err", err)
			}
			return
		}
		ack := AckAccepted
		c, err := l.receive(buf[:n], oob[:oobn], flags)
		if err != nil {
			l.log.Warn("handoff rejected", "err", err)
			ack = AckBad
		} else {
			l.received.Add(1)
			select {
			case l.conns <- accepted{c: c}:
			case <-l.done:
				_ = c.Close()
				ack = AckRefused
			}
		}
		_ = uc.SetWriteDeadline(time.Now().Add(DefaultAckTimeout))
		if _, err := uc.Write(encodeAnswer(ack, l.currentLoad())); err != nil {
			l.log.Debug("handoff answer failed", "err", err)
			return
		}
	}
}

// receive turns one message into a connection; every descriptor it does
// not return is closed.
func (l *Listener) receive(payload, oob []byte, flags int) (net.Conn, error) {
	fds, err := parseRights(oob)
	closeFDs := func() {
		for _, fd := range fds {
			_ = syscall.Close(fd)
		}
	}
	switch {
	case err != nil:
		closeFDs()
		return nil, fmt.Errorf("%w: control message: %v", ErrBadMessage, err)
	case flags&syscall.MSG_CTRUNC != 0:
		closeFDs()
		return nil, fmt.Errorf("%w: descriptors truncated", ErrBadMessage)
	case flags&syscall.MSG_TRUNC != 0 || len(payload) > l.cfg.MaxMessage:
		closeFDs()
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.cfg.MaxMessage)
	case len(fds) != 1:
		closeFDs()
		return nil, fmt.Errorf("%w: %d descriptors, want 1", ErrBadMessage, len(fds))
	}
	f := os.NewFile(uintptr(fds[0]), "handoff")
	nc, err := net.FileConn(f)
	_ = f.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		_ = nc.Close()
		return nil, ErrNotTCP
	}
	return NewConn(tc, bytes.Clone(payload)), nil
}

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		if msgs[i].Header.Level != syscall.SOL_SOCKET || msgs[i].Header.Type != syscall.SCM_RIGHTS {
			continue
		}
		got, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			return fds, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}
