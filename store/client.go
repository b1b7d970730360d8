package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Client defaults.
const (
	// DefaultCommandTimeout is how long a command waits for its answer (nData's client uses 10 s).
	DefaultCommandTimeout = 10 * time.Second
	// DefaultDialTimeout bounds one connection attempt including the init handshake.
	DefaultDialTimeout = 2 * time.Second
	// DefaultMinBackoff and DefaultMaxBackoff bound the delay between reconnect attempts (doubling).
	DefaultMinBackoff = 20 * time.Millisecond
	DefaultMaxBackoff = 1 * time.Second
	// DefaultClientQueue is how many outbound frames may wait for the writer; a full queue blocks the caller (up
	// to its timeout).
	DefaultClientQueue = 4096
)

// Client errors.
var (
	// ErrUnavailable is returned while the client has no connection to its store.
	ErrUnavailable = errors.New("nData Error - store unavailable")
	// ErrTimeout is wrapped by the error of a command that got no answer in time.
	ErrTimeout = errors.New("nData Error - timeout")
	// ErrClientClosed is returned after Close.
	ErrClientClosed = errors.New("nData Error - client closed")
)

// TimeoutError is returned when a command's answer did not arrive in time.
type TimeoutError struct{ Action string }

func (e *TimeoutError) Error() string {
	return "nData Error - The " + e.Action + " action timed out"
}

// Unwrap makes errors.Is(err, ErrTimeout) hold.
func (e *TimeoutError) Unwrap() error { return ErrTimeout }

// RemoteError is an error reported by the store for one command.
type RemoteError struct {
	Action  string
	Message string
}

func (e *RemoteError) Error() string { return e.Message }

// ClientOptions configures a Client. Zero values mean the documented defaults.
type ClientOptions struct {
	// Network ("tcp" or "unix") and Address of the store. Required.
	Network, Address string
	// Secret is the cluster secret sent in the init frame.
	Secret string
	// Timeout per command; 0 means DefaultCommandTimeout.
	Timeout time.Duration
	// DialTimeout per connection attempt; 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// MinBackoff / MaxBackoff between reconnect attempts; 0 means the defaults.
	MinBackoff, MaxBackoff time.Duration
	// MaxFrameSize bounds an inbound frame; 0 means DefaultMaxFrameSize.
	MaxFrameSize int
	// QueueSize is the outbound frame queue; 0 means DefaultClientQueue.
	QueueSize int
	// OnMessage receives published messages of subscribed channels, in order, on the client's reader
	// goroutine; it must not block. nil drops them.
	OnMessage func(channel string, msg json.RawMessage)
	// OnConnect is called (on the client's connection goroutine) after every successful (re)connection, once
	// the subscriptions are restored. Optional.
	OnConnect func()
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Client is a pipelined connection to one store that reconnects with backoff and restores its subscriptions.
// Commands issued while the store is unreachable fail at once with ErrUnavailable. Safe for concurrent use.
type Client struct {
	opts ClientOptions
	log  *slog.Logger

	mu      sync.Mutex
	cur     *clientConn
	lastErr error
	subs    map[string]struct{}
	closed  bool
	ready   chan struct{} // closed while connected; replaced when the connection drops
	nextID  uint64
	stop    chan struct{}
	stopped chan struct{}
}

type result struct {
	val json.RawMessage
	err error
}

type clientConn struct {
	c       net.Conn
	out     chan []byte
	done    chan struct{}
	once    sync.Once
	err     error
	mu      sync.Mutex
	pending map[uint64]chan result
}

// NewClient starts a client; it connects in the background (see WaitReady).
func NewClient(opts ClientOptions) (*Client, error) {
	if opts.Network == "" || opts.Address == "" {
		return nil, fmt.Errorf("%w: store network and address are required", ErrBadArgument)
	}
	defaultIfUnset(&opts.Timeout, DefaultCommandTimeout)
	defaultIfUnset(&opts.DialTimeout, DefaultDialTimeout)
	defaultIfUnset(&opts.MinBackoff, DefaultMinBackoff)
	defaultIfUnset(&opts.MaxBackoff, DefaultMaxBackoff)
	defaultIfUnset(&opts.MaxFrameSize, DefaultMaxFrameSize)
	defaultIfUnset(&opts.QueueSize, DefaultClientQueue)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Client{
		opts:    opts,
		log:     opts.Logger.With("component", "store-client", "store", opts.Address),
		subs:    map[string]struct{}{},
		ready:   make(chan struct{}),
		lastErr: fmt.Errorf("%w: %s %s: not connected yet", ErrUnavailable, opts.Network, opts.Address),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go c.manage()
	return c, nil
}

// Dial starts a client and waits until it is connected or ctx ends.
func Dial(ctx context.Context, opts ClientOptions) (*Client, error) {
	c, err := NewClient(opts)
	if err != nil {
		return nil, err
	}
	if err := c.WaitReady(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// WaitReady blocks until the client is connected, ctx ends (returning the last connection error) or Close.
func (c *Client) WaitReady(ctx context.Context) error {
	for {
		c.mu.Lock()
		ready, closed := c.ready, c.closed
		c.mu.Unlock()
		if closed {
			return ErrClientClosed
		}
		select {
		case <-ready:
			return nil
		case <-ctx.Done():
			c.mu.Lock()
			lastErr := c.lastErr
			c.mu.Unlock()
			return fmt.Errorf("%w (%v)", lastErr, ctx.Err())
		case <-c.stop:
			return ErrClientClosed
		}
	}
}

// Close stops reconnecting and closes the connection; pending commands fail with ErrClientClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.stopped
		return nil
	}
	c.closed = true
	cur := c.cur
	close(c.stop)
	c.mu.Unlock()
	if cur != nil {
		cur.shut(ErrClientClosed)
	}
	<-c.stopped
	return nil
}

// manage owns the connection: dial, handshake, resubscribe, wait for loss, back off, repeat.
func (c *Client) manage() {
	defer close(c.stopped)
	backoff := c.opts.MinBackoff
	for {
		cc, err := c.connect()
		if err != nil {
			c.mu.Lock()
			c.lastErr = fmt.Errorf("%w: %s %s: %v", ErrUnavailable, c.opts.Network, c.opts.Address, err)
			c.mu.Unlock()
			select {
			case <-c.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, c.opts.MaxBackoff)
			continue
		}
		backoff = c.opts.MinBackoff
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			cc.shut(ErrClientClosed)
			<-cc.done
			return
		}
		c.cur = cc
		close(c.ready)
		subs := make([]string, 0, len(c.subs))
		for ch := range c.subs {
			subs = append(subs, ch)
		}
		c.mu.Unlock()
		for _, ch := range subs {
			if _, err := c.do(context.Background(), &Request{Action: ActionSubscribe, Channel: ch}); err != nil {
				c.log.Warn("store: resubscribe failed", "channel", ch, "err", err)
			}
		}
		if c.opts.OnConnect != nil {
			c.opts.OnConnect()
		}
		<-cc.done
		c.mu.Lock()
		c.cur = nil
		c.ready = make(chan struct{})
		c.lastErr = fmt.Errorf("%w: %s %s: %v", ErrUnavailable, c.opts.Network, c.opts.Address, cc.err)
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
		c.log.Warn("store connection lost; reconnecting", "err", cc.err)
	}
}

// connect dials and performs the init handshake.
func (c *Client) connect() (*clientConn, error) {
	d := net.Dialer{Timeout: c.opts.DialTimeout}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.DialTimeout)
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	nc, err := d.DialContext(ctx, c.opts.Network, c.opts.Address)
	if err != nil {
		return nil, err
	}
	frame, _ := appendFrame(nil, &Request{ID: 0, Action: ActionInit, Secret: c.opts.Secret})
	nc.SetDeadline(time.Now().Add(c.opts.DialTimeout))
	r := bufio.NewReaderSize(nc, 64<<10)
	if _, err := nc.Write(frame); err != nil {
		nc.Close()
		return nil, err
	}
	body, err := readFrame(r, c.opts.MaxFrameSize)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("init handshake: %w", err)
	}
	res, err := parseResponse(body)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if res.Error != "" {
		nc.Close()
		return nil, &RemoteError{Action: ActionInit, Message: res.Error}
	}
	nc.SetDeadline(time.Time{})
	cc := &clientConn{
		c:       nc,
		out:     make(chan []byte, c.opts.QueueSize),
		done:    make(chan struct{}),
		pending: map[uint64]chan result{},
	}
	go cc.writeLoop()
	go c.readLoop(cc, r)
	return cc, nil
}

// shut closes the connection once and fails every pending command with err.
func (cc *clientConn) shut(err error) {
	cc.once.Do(func() {
		cc.err = err
		cc.c.Close()
		cc.mu.Lock()
		for id, ch := range cc.pending {
			ch <- result{err: err}
			delete(cc.pending, id)
		}
		cc.pending = nil
		cc.mu.Unlock()
		close(cc.done)
	})
}

func (cc *clientConn) writeLoop() {
	w := bufio.NewWriterSize(cc.c, 64<<10)
	for {
		select {
		case <-cc.done:
			return
		case f := <-cc.out:
			_, err := w.Write(f)
			for more := true; more && err == nil; {
				select {
				case f = <-cc.out:
					_, err = w.Write(f)
				default:
					more = false
				}
			}
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				cc.shut(err)
				return
			}
		}
	}
}

func (c *Client) readLoop(cc *clientConn, r *bufio.Reader) {
	for {
		body, err := readFrame(r, c.opts.MaxFrameSize)
		if err != nil {
			cc.shut(err)
			return
		}
		res, err := parseResponse(body)
		if err != nil {
			cc.shut(err)
			return
		}
		if res.Type == TypeMessage {
			if c.opts.OnMessage != nil {
				c.opts.OnMessage(res.Channel, res.Value)
			}
			continue
		}
		cc.mu.Lock()
		ch := cc.pending[res.ID]
		delete(cc.pending, res.ID)
		cc.mu.Unlock()
		if ch == nil {
			continue // answer to a command that timed out
		}
		if res.Error != "" {
			ch <- result{err: &RemoteError{Action: res.Action, Message: res.Error}}
		} else {
			ch <- result{val: res.Value}
		}
	}
}

// Do sends one command and waits for its answer (bounded by the command timeout and ctx). req.ID is assigned.
func (c *Client) Do(ctx context.Context, req *Request) (json.RawMessage, error) {
	return c.do(ctx, req)
}

func (c *Client) do(ctx context.Context, req *Request) (json.RawMessage, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClientClosed
	}
	cc := c.cur
	if cc == nil {
		err := c.lastErr
		c.mu.Unlock()
		return nil, err
	}
	c.nextID++
	req.ID = c.nextID
	c.mu.Unlock()

	frame, err := appendFrame(nil, req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadArgument, err)
	}
	ch := make(chan result, 1)
	if !req.NoAck {
		cc.mu.Lock()
		if cc.pending == nil {
			cc.mu.Unlock()
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, cc.err)
		}
		cc.pending[req.ID] = ch
		cc.mu.Unlock()
	}
	timer := time.NewTimer(c.opts.Timeout)
	defer timer.Stop()
	forget := func() {
		cc.mu.Lock()
		if cc.pending != nil {
			delete(cc.pending, req.ID)
		}
		cc.mu.Unlock()
	}
	select {
	case cc.out <- frame:
	case <-cc.done:
		forget()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, cc.err)
	case <-timer.C:
		forget()
		return nil, &TimeoutError{Action: req.Action}
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
	if req.NoAck {
		return nil, nil
	}
	select {
	case r := <-ch:
		if r.err != nil && !errors.As(r.err, new(*RemoteError)) && !errors.Is(r.err, ErrClientClosed) {
			return nil, fmt.Errorf("%w: %s %s: %v", ErrUnavailable, c.opts.Network, c.opts.Address, r.err)
		}
		return r.val, r.err
	case <-timer.C:
		forget()
		return nil, &TimeoutError{Action: req.Action}
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
}

// Subscribe subscribes the client to channel; the subscription is restored after every reconnect.
func (c *Client) Subscribe(ctx context.Context, channel string) error {
	c.mu.Lock()
	_, had := c.subs[channel]
	c.subs[channel] = struct{}{}
	c.mu.Unlock()
	if _, err := c.do(ctx, &Request{Action: ActionSubscribe, Channel: channel}); err != nil {
		if !had {
			c.mu.Lock()
			delete(c.subs, channel)
			c.mu.Unlock()
		}
		return err
	}
	return nil
}

// Unsubscribe drops the subscription to channel.
func (c *Client) Unsubscribe(ctx context.Context, channel string) error {
	c.mu.Lock()
	delete(c.subs, channel)
	c.mu.Unlock()
	_, err := c.do(ctx, &Request{Action: ActionUnsubscribe, Channel: channel})
	return err
}

// Publish publishes msg (JSON) on channel to every subscribed connection of this store.
func (c *Client) Publish(ctx context.Context, channel string, msg json.RawMessage) error {
	_, err := c.do(ctx, &Request{Action: ActionPublish, Channel: channel, Value: msg})
	return err
}
