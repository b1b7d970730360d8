// Package handoff moves an accepted client TCP connection from a balancer
// process to a worker process (SCM_RIGHTS over a Unix SOCK_SEQPACKET
// socket), so that a WebSocket's bytes no longer cross the balancer.
//
// Wire: one message per connection: the payload (the bytes the worker must
// read first: the request head the balancer rewrote, plus whatever the client
// had already sent after it) with exactly one descriptor attached. The worker
// answers with one byte: AckAccepted (it serves the connection; the balancer
// closes its copy), AckRefused (it is stopping; the balancer keeps the
// connection and tunnels it) or AckBad (the message was malformed). A worker
// whose Listener has a load function (Config.Load, SetLoad) follows the byte
// with its load as 4 bytes big-endian (AnswerSize bytes in all), e.g. its open
// connections, which balancers use for their least-loaded pick (handed-off
// connections no longer pass through them). Senders accept both forms; both
// sides ship in one binary, so there is no other version to meet.
//
// Sender (balancer side) keeps a few idle connections to one worker's socket.
// Listener (worker side) is a net.Listener that merges the worker's TCP
// listener and the connections handed to it, so one http.Server serves both
// and its shutdown (Close, connection states) covers both.
//
// Security: the socket lives in a directory only the cluster's user can
// enter (0700, created by the master) and Listen accepts only peers of its
// own uid (SO_PEERCRED). Supported on Linux only; elsewhere Supported is
// false, Listen and Send return ErrUnsupported and balancers keep tunnelling.
//
// Concurrency: a Sender and a Listener may be used from any goroutine.
package handoff

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"strings"
	"time"
)

// Defaults of the handoff protocol.
const (
	// MaxMessage bounds one handoff payload: the balancer's request head
	// limit (64 KB) plus the headers it adds plus one read buffer of bytes
	// the client sent after the head.
	MaxMessage = 96 << 10
	// DefaultAckTimeout bounds the wait for the worker's answer.
	DefaultAckTimeout = 2 * time.Second
	// DefaultDialTimeout bounds a connection to a worker's handoff socket.
	DefaultDialTimeout = time.Second
	// DefaultIdleTimeout closes a balancer's handoff connection on the
	// worker side after this long without a message (the balancer redials).
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultIdleConns is how many idle connections a Sender keeps.
	DefaultIdleConns = 4
	// DefaultSenderIdle: a Sender closes connections idle this long (an idle
	// cluster holds no handoff sockets for long).
	DefaultSenderIdle = 5 * time.Second
	// maxFDs is how many descriptors a receive makes room for: one is
	// expected, the rest are received only to be closed.
	maxFDs = 8
)

// Answers of the worker, one byte.
const (
	AckAccepted byte = 'A'
	AckRefused  byte = 'R'
	AckBad      byte = 'E'
)

// AnswerSize is the length of an answer carrying the worker's load: the
// answer byte and the load as a big-endian uint32.
const AnswerSize = 5

// NoLoad is the load SendLoad reports when the worker's answer carried none.
const NoLoad = -1

// encodeAnswer makes the answer ack with load (negative: no load, one byte).
func encodeAnswer(ack byte, load int) []byte {
	if load < 0 {
		return []byte{ack}
	}
	u := uint32(math.MaxUint32)
	if int64(load) < math.MaxUint32 {
		u = uint32(load)
	}
	return binary.BigEndian.AppendUint32([]byte{ack}, u)
}

// decodeAnswer reads an answer of either form; ok is false for any other
// length.
func decodeAnswer(b []byte) (ack byte, load int, ok bool) {
	switch len(b) {
	case 1:
		return b[0], NoLoad, true
	case AnswerSize:
		return b[0], int(binary.BigEndian.Uint32(b[1:])), true
	}
	return 0, NoLoad, false
}

// Errors. Every error of Send except ErrUnconfirmed means the worker does not
// have the connection: the caller still owns it and may serve it otherwise.
var (
	ErrUnsupported = errors.New("handoff: not supported on this platform")
	ErrTooLarge    = errors.New("handoff: message too large")
	ErrRefused     = errors.New("handoff: refused by the worker")
	ErrBadMessage  = errors.New("handoff: malformed message")
	ErrNotTCP      = errors.New("handoff: not a TCP connection")
	ErrPeer        = errors.New("handoff: peer of another user")
	// ErrUnconfirmed: the message went out but no answer came in time; the
	// worker may serve the connection, so the caller must only close its
	// copy, never serve it too.
	ErrUnconfirmed = errors.New("handoff: sent but not confirmed")
	ErrClosed      = errors.New("handoff: closed")
)

// entrySep separates a worker's TCP address from its handoff socket path in
// a worker table entry; it cannot occur in a host:port.
const entrySep = "|"

// JoinEntry makes the worker table entry of a worker listening on addr
// (host:port) with the handoff socket path ("" for none).
func JoinEntry(addr, path string) string {
	if path == "" {
		return addr
	}
	return addr + entrySep + path
}

// SplitEntry is the inverse of JoinEntry.
func SplitEntry(entry string) (addr, path string) {
	addr, path, _ = strings.Cut(entry, entrySep)
	return addr, path
}

// Conn is a connection handed to this process: Read returns the handoff
// payload first, then the socket's bytes.
type Conn struct {
	net.Conn
	prefix []byte
}

// NewConn wraps c so that its reader sees prefix first.
func NewConn(c net.Conn, prefix []byte) *Conn { return &Conn{Conn: c, prefix: prefix} }

// Read implements net.Conn. Like any net.Conn, one reader at a time.
func (c *Conn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		if len(c.prefix) == 0 {
			c.prefix = nil
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

// NetConn returns the handed-off socket itself. With Buffered it lets the
// engine.io layer wait for readability on the socket (cluster/engineio's
// BufferedConn) instead of keeping a reader goroutine per idle connection.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Buffered returns how many bytes of the handoff payload reads have not
// returned yet; they come before the socket's. Same reader rules as Read.
func (c *Conn) Buffered() int { return len(c.prefix) }

// CloseWrite half-closes the socket when it supports that.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

type ctxKey struct{}

// ConnContext is an http.Server ConnContext hook: it marks the contexts of
// handed-off connections (see FromContext).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if _, ok := c.(*Conn); ok {
		return context.WithValue(ctx, ctxKey{}, true)
	}
	return ctx
}

// FromContext reports whether a request arrived on a handed-off connection
// (its server's ConnContext must be ConnContext).
func FromContext(ctx context.Context) bool {
	v, _ := ctx.Value(ctxKey{}).(bool)
	return v
}
