package balancer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
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

// leanEngine reports whether r takes the lean path: a GET or POST over
// HTTP/1.x with a small body of known length (engine.io polling requests and
// plain pages alike). Requests whose forwarding the ReverseProxy shapes in
// ways the lean path does not copy take the ReverseProxy: Expect (it waits
// for 100 Continue), Upgrade or Connection: upgrade (it forwards the
// upgrade), and queries it would rewrite (cleanQueryParams).
func (b *Balancer) leanEngine(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodPost) && r.ProtoMajor == 1 &&
		r.ContentLength >= 0 && r.ContentLength <= engineBodyLimit && len(r.TransferEncoding) == 0 &&
		len(r.Header["Expect"]) == 0 && len(r.Header["Upgrade"]) == 0 &&
		!valuesHaveToken(r.Header["Connection"], "upgrade") && queryClean(r.URL.RawQuery)
}

// proxyMaxParams is the query parameter count above which the ReverseProxy
// re-encodes a query (net/http/httputil's defaultMaxParams).
const proxyMaxParams = 10000

// queryClean reports whether the ReverseProxy would forward the query q
// unchanged: no ';', only well-formed %XX escapes, not too many parameters.
func queryClean(q string) bool {
	params := 1
	for i := 0; i < len(q); {
		switch q[i] {
		case ';':
			return false
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return false
			}
			i += 3
			continue
		case '&':
			params++
		}
		i++
	}
	return params <= proxyMaxParams
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// valuesHaveToken reports whether one of the comma-separated lists vv holds
// token (case-insensitive).
func valuesHaveToken(vv []string, token string) bool {
	for _, v := range vv {
		if hasToken(v, token) {
			return true
		}
	}
	return false
}

// serveEngine proxies one lean request (see leanEngine) to t on a pooled
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
				b.reverseProxy(t, w, r)
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
		switch {
		case errors.Is(err, errNoReuse):
		case errors.Is(err, errResponseStarted):
			// as the ReverseProxy does: the client must not take a
			// truncated body for a whole one (a chunked one would end
			// cleanly if the handler returned)
			if r.Context().Value(http.ServerContextKey) != nil {
				panic(http.ErrAbortHandler)
			}
		default:
			b.proxyError(t, w, r, err)
		}
		return
	}
}

// errResponseStarted: the response was partly written to the client when
// the worker connection failed; the client connection is all that can go.
var errResponseStarted = errors.New("worker connection failed during the response")

// errNoReuse: the response was copied whole but the worker connection
// cannot carry another request.
var errNoReuse = errors.New("worker connection not reusable")

// roundTrip sends r to the worker on ec and copies the response to w. A nil
// error means ec may be reused.
func (b *Balancer) roundTrip(ec *engineConn, w http.ResponseWriter, r *http.Request, body []byte) error {
	// a client that goes away during a GET (a long poll, which would hold
	// the worker connection for a ping interval, or a long page) or a page
	// POST aborts the worker connection, as the ReverseProxy's cancelled
	// request would; a worker answers polling POSTs at once, so they skip
	// the hook's allocations
	stop := stopped
	if r.Method == http.MethodGet || !strings.HasPrefix(r.URL.Path, b.cfg.EnginePath) {
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
	var out io.Writer = w
	if rh.body == bodyChunked || rh.body == bodyClose || rh.body == bodyLength && rh.length > int64(ec.br.Size()) {
		// the ReverseProxy (FlushInterval -1) sends the head at once and
		// flushes after every write: a body of unknown length reaches the
		// client chunked and as it comes, never buffered into one length
		fw := flushWriter{w: w, rc: http.NewResponseController(w)}
		_ = fw.rc.Flush()
		out = fw
	}
	if err := copyEngineBody(out, ec.br, rh, w.Header()); err != nil {
		return errors.Join(errResponseStarted, err)
	}
	if rh.close || !stop() {
		return errNoReuse
	}
	return nil
}

// flushWriter flushes the response after every write.
type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (fw flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	if err == nil {
		err = fw.rc.Flush()
	}
	return n, err
}

// stopped stands for a context.AfterFunc stop function of a hook never
// registered: it reports that the hook did not run.
func stopped() bool { return true }

// copyEngineBody copies the body of the response whose head is rh from br
// to w. A chunked body's trailer fields go into trailer (the response
// header: http.TrailerPrefix keys, sent as trailers), or are dropped when
// trailer is nil.
func copyEngineBody(w io.Writer, br *bufio.Reader, rh *respHead, trailer http.Header) error {
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
		return readTrailer(br, trailer)
	default: // bodyClose
		return copyPooled(w, br)
	}
}

// readTrailer reads a chunked body's trailer section up to and including
// its final empty line, adding its fields to trailer (if not nil) under
// http.TrailerPrefix, as the ReverseProxy forwards them. A field longer
// than the reader's buffer is rejected.
func readTrailer(br *bufio.Reader, trailer http.Header) error {
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
		if trailer != nil {
			if lineLen != len(chunk) {
				return fmt.Errorf("%w: trailer line too long", errHeadMalformed)
			}
			k, v, ok := strings.Cut(trimBlanks(strings.TrimRight(string(chunk), "\r\n")), ":")
			if !ok || k == "" || !validFieldName(k) || !validFieldValue(v) {
				return fmt.Errorf("%w: trailer line %.40q", errHeadMalformed, chunk)
			}
			trailer.Add(http.TrailerPrefix+http.CanonicalHeaderKey(k), trimBlanks(v))
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
	// X-Forwarded-Port is replaced when the balancer knows its port (the
	// Rewrite sets it then), else an inbound one passes
	tcp, _ := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	useTCP, port := tcp != nil && tcp.Port >= 0, ""
	if !useTCP {
		port = localPort(r)
	}
	hasPort := useTCP || port != ""
	for k, vv := range r.Header {
		if hopHeader(k) || forwardedHeader(k) || k == "X-Forwarded-Port" && hasPort || k == "Content-Length" || valuesHaveToken(conn, k) {
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
	if useTCP {
		bw.WriteString("\r\nX-Forwarded-Port: ")
		writeUint(bw, tcp.Port)
	} else if port != "" {
		bw.WriteString("\r\nX-Forwarded-Port: ")
		bw.WriteString(port)
	}
	if valuesHaveToken(r.Header["Te"], "trailers") {
		// the ReverseProxy keeps this one hop-by-hop header (issue 21096)
		bw.WriteString("\r\nTe: trailers")
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
// always replaces, the ones the ReverseProxy's Rewrite drops (other
// X-Forwarded-* headers pass, as through it).
func forwardedHeader(k string) bool {
	switch k {
	case "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
		return true
	}
	return false
}
