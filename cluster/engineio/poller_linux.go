//go:build linux

package engineio

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// poller waits for readability of idle WebSocket connections without a goroutine per connection: one epoll
// instance and one goroutine (blocked in epoll_wait) per Server. A connection is armed one-shot
// (EPOLLONESHOT, level-triggered) when its reader has consumed everything it read; the first readiness starts a
// reader goroutine, and the registration stays disabled until the next arm. Every epoll_ctl runs inside
// syscall.RawConn.Control, so it never touches a descriptor number that was closed (and possibly reused).
type poller struct {
	epfd  int
	wakeR int // read end of the stop pipe, registered under stopToken
	wakeW int

	mu     sync.Mutex
	conns  map[uint64]*wsConn
	next   uint64
	closed bool
	done   chan struct{} // closed when run returns
	quit   chan struct{} // closed by stop: ends sweep
	swept  chan struct{} // closed when sweep returns
}

// stopToken is the epoll data of the stop pipe; connection tokens start at 1.
const stopToken = 0

// pollerBatch is the number of events taken per epoll_wait.
const pollerBatch = 128

// pollerEvents are the events a connection is armed for: readable, or the peer closed or reset it.
const pollerEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// errPollerClosed is returned by arm after stop.
var errPollerClosed = errors.New("engineio: poller stopped")

// newPoller creates the epoll instance; run must be started on its own goroutine.
func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("engineio: epoll_create1: %w", err)
	}
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		_ = syscall.Close(epfd)
		return nil, fmt.Errorf("engineio: pipe2: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	setToken(&ev, stopToken)
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, pipe[0], &ev); err != nil {
		_ = syscall.Close(epfd)
		_ = syscall.Close(pipe[0])
		_ = syscall.Close(pipe[1])
		return nil, fmt.Errorf("engineio: epoll_ctl: %w", err)
	}
	return &poller{epfd: epfd, wakeR: pipe[0], wakeW: pipe[1], conns: make(map[uint64]*wsConn),
		done: make(chan struct{}), quit: make(chan struct{}), swept: make(chan struct{})}, nil
}

func setToken(ev *syscall.EpollEvent, tok uint64) {
	ev.Fd = int32(uint32(tok))
	ev.Pad = int32(uint32(tok >> 32))
}

func token(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// start starts the poller's goroutines (dispatch and idle sweep); stop ends them.
func (p *poller) start() {
	go p.run()
	go p.sweep()
}

// run dispatches readiness until stop: each event starts the reader of its connection.
func (p *poller) run() {
	defer close(p.done)
	events := make([]syscall.EpollEvent, pollerBatch)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			p.shut()
			return
		}
		for i := range n {
			tok := token(&events[i])
			if tok == stopToken {
				p.shut()
				return
			}
			p.mu.Lock()
			w := p.conns[tok]
			p.mu.Unlock()
			if w != nil {
				w.readable()
			}
		}
	}
}

// sweep ends, every wsParkAfter/2, the idle waits of readers that have waited wsParkAfter or longer, so
// that their connections are parked.
func (p *poller) sweep() {
	defer close(p.swept)
	t := time.NewTicker(wsParkAfter / 2)
	defer t.Stop()
	var idle []*wsConn
	for {
		select {
		case <-p.quit:
			return
		case now := <-t.C:
			idleSince := now.Add(-wsParkAfter).UnixNano()
			idle = idle[:0]
			p.mu.Lock()
			for _, w := range p.conns {
				if s := w.waitSince.Load(); s != 0 && s <= idleSince {
					idle = append(idle, w)
				}
			}
			p.mu.Unlock()
			for i, w := range idle {
				w.kickIdle(idleSince)
				idle[i] = nil
			}
		}
	}
}

// shut releases the descriptors once run ends, and gives every connection still registered its reader
// goroutine back (none may stay parked without a poller).
func (p *poller) shut() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	_ = syscall.Close(p.epfd)
	_ = syscall.Close(p.wakeR)
	_ = syscall.Close(p.wakeW)
	for _, w := range conns {
		w.wakeReader()
	}
}

// stop ends run (and waits for it); later arms fail with errPollerClosed, so readers keep their goroutine.
func (p *poller) stop() {
	p.mu.Lock()
	closed := p.closed
	p.closed = true
	p.mu.Unlock()
	if !closed {
		_, _ = syscall.Write(p.wakeW, []byte{0})
		close(p.quit)
	}
	<-p.done
	<-p.swept
}

// register gives pc its token; readiness of pc then starts w's reader once armed.
func (p *poller) register(w *wsConn, pc *pollConn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errPollerClosed
	}
	p.next++
	pc.token = p.next
	p.conns[pc.token] = w
	return nil
}

// arm enables pc for one readiness event. Only the connection's (single, logical) reader calls it.
func (p *poller) arm(pc *pollConn) error {
	// added is set before epoll_ctl, under mu (which the event's dispatch takes after): the event may start
	// the next reader before epoll_ctl returns. After a failed arm the reader keeps its goroutine for good, so
	// a failed ADD is never followed by a MOD.
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errPollerClosed
	}
	op := syscall.EPOLL_CTL_MOD
	if !pc.added {
		pc.added = true
		op = syscall.EPOLL_CTL_ADD
	}
	p.mu.Unlock()
	ev := syscall.EpollEvent{Events: pollerEvents}
	setToken(&ev, pc.token)
	var ctlErr error
	err := pc.raw.Control(func(fd uintptr) {
		ctlErr = syscall.EpollCtl(p.epfd, op, int(fd), &ev)
	})
	if err == nil {
		err = ctlErr
	}
	return err
}

// remove forgets pc (before its descriptor is closed): a late event of it is ignored.
func (p *poller) remove(pc *pollConn) {
	if pc.token == 0 {
		return
	}
	p.mu.Lock()
	closed := p.closed
	if !closed {
		delete(p.conns, pc.token)
	}
	p.mu.Unlock()
	if closed {
		return
	}
	_ = pc.raw.Control(func(fd uintptr) {
		_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
}
