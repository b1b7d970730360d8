package balancer

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/socketcluster-go/socketcluster/cluster/handoff"
)

// canHandoff reports whether an upgrade to t may be handed over: the worker
// has a handoff socket, the client's connection is plain TCP (TLS terminated
// here cannot move, it keeps the tunnel) and Serve is not draining.
func (b *Balancer) canHandoff(t *target, r *http.Request) bool {
	return t.sender != nil && r.TLS == nil && !b.draining.Load()
}

// handoff gives the client's connection of upgrade request r to worker t:
// the rewritten request head (as the tunnel would send it) and the bytes the
// client sent after it go along, so the worker reads exactly what it would
// read through the tunnel. If the worker does not take it, the connection is
// tunnelled. It reports false when it did nothing (the caller answers r).
func (b *Balancer) handoff(t *target, w http.ResponseWriter, r *http.Request) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	var payload bytes.Buffer
	if err := forwardedRequest(r).Write(&payload); err != nil || payload.Len() > handoff.MaxMessage {
		return false
	}
	client, brw, err := hj.Hijack()
	if err != nil {
		b.log.Debug("hijack failed", "err", err)
		return true
	}
	if n := brw.Reader.Buffered(); n > 0 {
		head, _ := brw.Reader.Peek(n)
		payload.Write(head)
	}
	load, err := t.sender.SendLoad(client, payload.Bytes())
	if load >= 0 {
		if err == nil {
			load++ // the worker counts this connection once its handshake is done
		}
		t.reported.Store(int64(load))
	}
	switch {
	case err == nil:
		_ = client.Close() // the worker has its own descriptor
		return true
	case errors.Is(err, handoff.ErrUnconfirmed):
		b.log.Warn("handoff not confirmed: connection left to the worker", "worker", t.id, "err", err)
		_ = client.Close()
		return true
	}
	b.log.Debug("handoff failed: tunnelling", "worker", t.id, "err", err)
	b.tunnelConn(t, r, client, payload.Bytes())
	return true
}

// tunnelConn tunnels an already hijacked client connection whose request
// (head) the worker has not seen yet; errors are answered on the connection.
func (b *Balancer) tunnelConn(t *target, r *http.Request, client net.Conn, head []byte) {
	backend, t, release, err := b.dialWorker(r.Context(), t)
	defer release()
	if err != nil {
		rw := &connResponse{header: http.Header{}}
		b.proxyError(t, rw, r, err)
		_ = client.SetWriteDeadline(time.Now().Add(b.cfg.DialTimeout))
		_ = rw.writeTo(client)
		_ = client.Close()
		return
	}
	_ = backend.SetWriteDeadline(time.Now().Add(b.cfg.DialTimeout))
	if _, err := backend.Write(head); err != nil {
		_ = backend.Close()
		_ = client.Close()
		b.log.Debug("tunnel: request not sent", "worker", t.id, "err", err)
		return
	}
	_ = backend.SetWriteDeadline(time.Time{})
	b.startTunnel(t, &tunnel{client: client, backend: backend})
}

// connResponse collects the response to a hijacked request (the balancer's
// error page, or the ProxyError hook's) to write it as HTTP/1.1 with
// Connection: close.
type connResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *connResponse) Header() http.Header { return c.header }

func (c *connResponse) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *connResponse) Write(p []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(p)
}

// writeTo writes the response (nothing if none was written).
func (c *connResponse) writeTo(w io.Writer) error {
	if c.status == 0 {
		return nil
	}
	c.header.Set("Connection", "close")
	c.header.Set("Content-Length", strconv.Itoa(c.body.Len()))
	var out bytes.Buffer
	out.WriteString("HTTP/1.1 " + strconv.Itoa(c.status) + " " + http.StatusText(c.status) + "\r\n")
	_ = c.header.Write(&out)
	out.WriteString("\r\n")
	out.Write(c.body.Bytes())
	_, err := w.Write(out.Bytes())
	return err
}

// closeWorkerConns closes the idle handoff and polling connections of every
// worker.
func (b *Balancer) closeWorkerConns() {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, t := range b.order {
		t.closeConns()
	}
}

// closeConns closes t's idle connections; later ones are closed when done.
func (t *target) closeConns() {
	if t.sender != nil {
		t.sender.Close()
	}
	t.pool.close()
}
