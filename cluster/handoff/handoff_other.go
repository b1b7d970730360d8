//go:build !linux

package handoff

import (
	"log/slog"
	"net"
	"time"
)

// Supported reports whether this platform can hand connections over.
const Supported = false

// Sender is unavailable here: Send always fails with ErrUnsupported.
type Sender struct {
	path        string
	AckTimeout  time.Duration
	IdleTimeout time.Duration
}

// NewSender makes a sender whose Send always fails.
func NewSender(path string) *Sender { return &Sender{path: path} }

// Path returns the socket path.
func (s *Sender) Path() string { return s.path }

// Send fails with ErrUnsupported; the caller keeps the connection.
func (s *Sender) Send(net.Conn, []byte) error { return ErrUnsupported }

// SendLoad fails with ErrUnsupported; the caller keeps the connection.
func (s *Sender) SendLoad(net.Conn, []byte) (int, error) { return NoLoad, ErrUnsupported }

// Close does nothing.
func (s *Sender) Close() {}

// Config configures a Listener (see the Linux implementation).
type Config struct {
	Path        string
	Logger      *slog.Logger
	MaxMessage  int
	IdleTimeout time.Duration
	Load        func() int
}

// Listener is never returned on this platform.
type Listener struct{ net.Listener }

// Path is empty.
func (l *Listener) Path() string { return "" }

// SetLoad does nothing.
func (l *Listener) SetLoad(func() int) {}

// CloseHandoff does nothing.
func (l *Listener) CloseHandoff() {}

// Listen fails with ErrUnsupported.
func Listen(net.Listener, Config) (*Listener, error) { return nil, ErrUnsupported }
