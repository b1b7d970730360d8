//go:build !linux

package engineio

import "errors"

// poller is the Linux epoll readiness loop (poller_linux.go); elsewhere every WebSocket keeps its reader
// goroutine while idle.
type poller struct{}

var errNoPoller = errors.New("engineio: no readiness poller on this platform")

func newPoller() (*poller, error)                   { return nil, errNoPoller }
func (p *poller) start()                            {}
func (p *poller) stop()                             {}
func (p *poller) register(*wsConn, *pollConn) error { return errNoPoller }
func (p *poller) arm(*pollConn) error               { return errNoPoller }
func (p *poller) remove(*pollConn)                  {}
