package balancer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits of the engine.io polling proxy.
const (
	// engineBodyLimit: request bodies up to this size take the lean path
	// (they are read whole into a pooled buffer, so a request sent on a
	// pooled connection the worker had just closed can be sent again);
	// larger ones and bodies of unknown length take the ReverseProxy.
	engineBodyLimit = tunnelBufSize
	// engineIdleTimeout: a pooled worker connection idle longer is closed
	// rather than reused (workers close theirs after DefaultIdleTimeout).
	engineIdleTimeout = 60 * time.Second
	// engineBufSize is the read and write buffer of a worker connection.
	engineBufSize = 4 << 10
)

// errEngineStale is a pooled connection that ended before any byte of the
// response: the worker closed it while idle and never saw the request.
var errEngineStale = errors.New("pooled worker connection closed")

// engineConn is one keep-alive HTTP/1.1 connection to a worker.
type engineConn struct {
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time
	head []byte   // scratch for a response head, reused
	rh   respHead // the last response head (its fields slice is reused)
}

// enginePool is a target's idle connections, most recently used last.
type enginePool struct {
	mu     sync.Mutex
	idle   []*engineConn
	closed bool
}

func (p *enginePool) get() *engineConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		ec := p.idle[n-1]
		p.idle = p.idle[:n-1]
		if time.Since(ec.used) < engineIdleTimeout {
			return ec
		}
		_ = ec.c.Close()
	}
	return nil
}

func (p *enginePool) put(ec *engineConn) {
	ec.used = time.Now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= maxIdlePerWorker {
		p.mu.Unlock()
		_ = ec.c.Close()
		return
	}
	p.idle = append(p.idle, ec)
	p.mu.Unlock()
}

func (p *enginePool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, ec := range idle {
		_ = ec.c.Close()
	}
}

// leanEngine reports whether r takes the lean path: an engine.io polling
// GET or POST over HTTP/1.x with a small body of known length.
func (b *Balancer) leanEngine(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodPost) && r.ProtoMajor == 1 &&
		strings.HasPrefix(r.URL.Path, b.cfg.EnginePath) && r.ContentLength >= 0 &&
		r.ContentLength <= engineBodyLimit && len(r.TransferEncoding) == 0
}

// serveEngine proxies one engine.io polling request to t on a pooled
// keep-alive connection, without the ReverseProxy's request clone and the
// Transport's connection goroutines. The worker sees the same request as
// through the ReverseProxy: hop-by-hop and inbound X-Forwarded-* headers
// dropped, X-Forwarded-For/-Host/-Proto/-Port set by the balancer. When no
// connection to t can be made, the ReverseProxy takes over (it retries other
// workers and answers errors).
func (b *Balancer) serveEngine(t *target, w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.ContentLength > 0 {
		bp := tunnelBufs.Get().(*[]byte)
		defer tunnelBufs.Put(bp)
		body = (*bp)[:r.ContentLength]
		if _, err := io.ReadFull(r.Body, body); err != nil {
			b.log.Debug("client went away", "err", err)
			return
		}
	}
	for attempt := 0; ; attempt++ {
		ec, reused := t.pool.get(), true
		if ec == nil {
			c, err := b.dialer.DialContext(r.Context(), "tcp", t.addr)
			if err != nil {
				r.Body = io.NopCloser(bytes.NewReader(body))
				b.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, t)))
				return
			}
			ec = &engineConn{c: c, br: bufio.NewReaderSize(c, engineBufSize), bw: bufio.NewWriterSize(c, engineBufSize)}
			reused = false
		}
		err := b.roundTrip(ec, w, r, body)
		if err == nil {
			t.pool.put(ec)
			return
		}
		_ = ec.c.Close()
		if errors.Is(err, errEngineStale) && reused && attempt == 0 {
			continue
		}
		if !errors.Is(err, errResponseStarted) {
			b.proxyError(t, w, r, err)
		}
		return
	}
}

// errResponseStarted: the response was partly written to the client when
// the worker connection failed; the client connection is all that can go.
var errResponseStarted = errors.New("worker connection failed during the response")

// roundTrip sends r to the worker on ec and copies the response to w. A nil
// error means ec may be reused.
func (b *Balancer) roundTrip(ec *engineConn, w http.ResponseWriter, r *http.Request, body []byte) error {
	// a client that goes away during a GET (a long poll, which would hold
	// the worker connection for a ping interval) aborts the worker
	// connection; a worker answers POSTs at once, so they skip the hook's
	// allocations
	stop := stopped
	if r.Method == http.MethodGet {
		stop = context.AfterFunc(r.Context(), func() { _ = ec.c.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	writeEngineRequest(ec.bw, r, body)
	if err := ec.bw.Flush(); err != nil {
		return errors.Join(errEngineStale, err)
	}
	var err error
	ec.head, err = readRespHead(ec.br, &ec.rh, ec.head)
	if err != nil {
		// only a connection that ended before any byte of an answer is
		// stale: a partial answer means the worker had the request
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return errors.Join(errEngineStale, err)
		}
		return err
	}
	rh := &ec.rh
	rh.copyFields(w.Header())
	w.WriteHeader(rh.status)
	if err := copyEngineBody(w, ec.br, rh); err != nil {
		return errors.Join(errResponseStarted, err)
	}
	if rh.close || !stop() {
		return errResponseStarted // done, but ec must not be reused
	}
	return nil
}

// stopped stands for a context.AfterFunc stop function of a hook never
// registered: it reports that the hook did not run.
func stopped() bool { return true }

// copyEngineBody copies the body of the response whose head is rh from br
// to w.
func copyEngineBody(w io.Writer, br *bufio.Reader, rh *respHead) error {
	switch rh.body {
	case bodyNone:
		return nil
	case bodyLength:
		if rh.length <= int64(br.Size()) {
			// the usual small body: straight from the read buffer
			p, err := br.Peek(int(rh.length))
			if err != nil {
				return err
			}
			if _, err := w.Write(p); err != nil {
				return err
			}
			_, err = br.Discard(len(p))
			return err
		}
		lr := &io.LimitedReader{R: br, N: rh.length}
		if err := copyPooled(w, lr); err != nil {
			return err
		}
		if lr.N > 0 {
			return io.ErrUnexpectedEOF
		}
		return nil
	case bodyChunked:
		if err := copyPooled(w, httputil.NewChunkedReader(br)); err != nil {
			return err
		}
		return skipTrailer(br)
	default: // bodyClose
		return copyPooled(w, br)
	}
}

// skipTrailer reads a chunked body's trailer section up to and including
// its final empty line (trailers are dropped, as before).
func skipTrailer(br *bufio.Reader) error {
	total, lineLen := 0, 0
	for {
		chunk, err := br.ReadSlice('\n')
		total += len(chunk)
		lineLen += len(chunk)
		if total > engineMaxHead {
			return errHeadTooLarge
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if lineLen == len(chunk) && (len(chunk) == 1 || len(chunk) == 2 && chunk[0] == '\r') {
			return nil
		}
		lineLen = 0
	}
}

// copyPooled copies src to w with a pooled buffer.
func copyPooled(w io.Writer, src io.Reader) error {
	bp := tunnelBufs.Get().(*[]byte)
	_, err := io.CopyBuffer(w, src, *bp)
	tunnelBufs.Put(bp)
	return err
}

// writeEngineRequest writes r's head (as the ReverseProxy would send it)
// and body.
func writeEngineRequest(bw *bufio.Writer, r *http.Request, body []byte) {
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	writeRequestURI(bw, r.URL)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(r.Host)
	bw.WriteString("\r\n")
	conn := r.Header["Connection"]
	for k, vv := range r.Header {
		if hopHeader(k) || forwardedHeader(k) || k == "Content-Length" || listedIn(conn, k) {
			continue
		}
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	bw.WriteString("X-Forwarded-For: ")
	bw.WriteString(clientIP(r))
	bw.WriteString("\r\nX-Forwarded-Host: ")
	bw.WriteString(r.Host)
	if r.TLS != nil {
		bw.WriteString("\r\nX-Forwarded-Proto: https")
	} else {
		bw.WriteString("\r\nX-Forwarded-Proto: http")
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok && a.Port >= 0 {
		bw.WriteString("\r\nX-Forwarded-Port: ")
		writeUint(bw, a.Port)
	} else if p := localPort(r); p != "" {
		bw.WriteString("\r\nX-Forwarded-Port: ")
		bw.WriteString(p)
	}
	if len(body) > 0 || r.Method == http.MethodPost {
		bw.WriteString("\r\nContent-Length: ")
		writeUint(bw, len(body))
	}
	bw.WriteString("\r\n\r\n")
	bw.Write(body)
}

// writeUint writes n >= 0 in decimal without allocating.
func writeUint(bw *bufio.Writer, n int) {
	if n >= 10 {
		writeUint(bw, n/10)
	}
	_ = bw.WriteByte(byte('0' + n%10))
}

// writeRequestURI writes u.RequestURI() without building the string.
func writeRequestURI(bw *bufio.Writer, u *url.URL) {
	if u.Opaque != "" {
		bw.WriteString(u.RequestURI())
		return
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	bw.WriteString(p)
	if u.ForceQuery || u.RawQuery != "" {
		bw.WriteByte('?')
		bw.WriteString(u.RawQuery)
	}
}

// hopHeader reports the hop-by-hop headers (RFC 9110 7.6.1) a proxy drops;
// keys are in canonical form.
func hopHeader(k string) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// forwardedHeader reports the inbound forwarding headers the balancer
// replaces (the ReverseProxy's Rewrite drops them too).
func forwardedHeader(k string) bool {
	return k == "Forwarded" || strings.HasPrefix(k, "X-Forwarded-")
}

// listedIn reports whether the Connection header values name k.
func listedIn(conn []string, k string) bool {
	for _, v := range conn {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), k) {
				return true
			}
		}
	}
	return false
}
