package engineio

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Long-polling transport (engine.io 1.3.1 transports/polling*.js).

const (
	contentTypeBinary = "application/octet-stream"
	contentTypeText   = "text/plain; charset=UTF-8"
	contentTypeJSONP  = "text/javascript; charset=UTF-8"
	contentTypeOK     = "text/html"
)

// servePolling dispatches a request of an existing polling socket by method.
func (c *Socket) servePolling(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		c.servePoll(w, r)
	case http.MethodPost:
		c.serveData(w, r)
	case http.MethodOptions:
		if c.jsonp {
			// JSONP has no OPTIONS handling in engine.io 1.3.1: generic polling answers 500.
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		h := w.Header()
		c.pollingHeaders(h, r)
		h["Access-Control-Allow-Headers"] = []string{"Content-Type"}
		h["Content-Length"] = []string{"0"}
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// pollingHeaders sets the headers every response of the polling transport carries: CORS for XHR, the MSIE 8
// XSS header for JSONP, and the session cookie.
func (c *Socket) pollingHeaders(h http.Header, r *http.Request) {
	if c.jsonp {
		if strings.Contains(r.Header.Get("User-Agent"), "MSIE 8.0") {
			h["X-XSS-Protection"] = []string{"0"}
		}
	} else {
		corsHeaders(h, r)
	}
	if c.cookie {
		h["Set-Cookie"] = []string{c.srv.cfg.CookieName + "=" + c.id}
	}
}

// writePollResponse writes packets as the answer to a GET in the socket's framing.
func (c *Socket) writePollResponse(w http.ResponseWriter, r *http.Request, ps []Packet) {
	var (
		body []byte
		ct   string
	)
	switch {
	case c.jsonp:
		body, ct = EncodePayloadJSONP(nil, ps, c.j), contentTypeJSONP
	case c.b64:
		body, ct = EncodePayloadText(nil, ps), contentTypeText
	default:
		body, ct = EncodePayloadBinary(nil, ps), contentTypeBinary
	}
	h := w.Header()
	h["Content-Type"] = []string{ct}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	if ua := r.Header.Get("User-Agent"); strings.Contains(ua, ";MSIE") || strings.Contains(ua, "Trident/") {
		h["X-XSS-Protection"] = []string{"0"}
	}
	c.pollingHeaders(h, r)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// servePoll handles a long-polling GET: answer at once when packets are queued, else hold it until there are.
func (c *Socket) servePoll(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	switch {
	case c.state == stateClosed:
		c.mu.Unlock()
		writeError(w, r, ErrCodeUnknownSID)
		return
	case c.transport != TransportPolling:
		c.mu.Unlock()
		writeError(w, r, ErrCodeBadRequest)
		return
	case c.poll != nil:
		c.mu.Unlock()
		c.srv.log.Debug("poll overlap from client", "sid", c.id)
		c.finish(ReasonTransportError)
		w.WriteHeader(http.StatusInternalServerError)
		return
	case c.state == stateClosing:
		// Closed while no poll was pending: [queued..., close], or [noop, close] when nothing was queued.
		ps := c.takeQueueLocked()
		if len(ps) == 0 {
			ps = append(ps, Packet{Type: Noop})
		}
		ps = append(ps, Packet{Type: Close})
		c.mu.Unlock()
		c.finish(ReasonForcedClose)
		c.writePollResponse(w, r, ps)
		return
	case len(c.queue) > 0:
		ps := c.takeQueueLocked()
		c.mu.Unlock()
		c.writePollResponse(w, r, ps)
		return
	}
	p := &pollWaiter{wake: make(chan struct{}, 1)}
	c.poll = p
	c.mu.Unlock()

	select {
	case <-p.wake:
	case <-r.Context().Done():
		c.mu.Lock()
		if c.poll == p {
			c.poll = nil
		}
		c.mu.Unlock()
		c.finish(ReasonTransportError) // poll connection closed prematurely
		return
	}

	c.mu.Lock()
	if c.poll == p {
		c.poll = nil
	}
	var ps []Packet
	switch {
	case p.close:
		ps = append(c.takeQueueLocked(), Packet{Type: Close})
	case c.transport != TransportPolling:
		// Upgraded meanwhile: release the poll with a noop; the queue belongs to the WebSocket now.
		ps = []Packet{{Type: Noop}}
	default:
		ps = c.takeQueueLocked()
		if len(ps) == 0 {
			ps = []Packet{{Type: Noop}}
		}
	}
	c.mu.Unlock()
	c.writePollResponse(w, r, ps)
}

// serveData handles a POST carrying a payload from the client.
func (c *Socket) serveData(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		writeError(w, r, ErrCodeUnknownSID)
		return
	}
	if c.posting {
		c.mu.Unlock()
		c.srv.log.Debug("data request overlap from client", "sid", c.id)
		c.finish(ReasonTransportError)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	c.posting = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.posting = false
		c.mu.Unlock()
	}()

	limit := c.srv.cfg.MaxHTTPBufferSize
	if r.ContentLength > limit {
		c.refuseBody(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		c.finish(ReasonTransportError) // data request connection closed prematurely
		return
	}
	if int64(len(body)) > limit {
		c.refuseBody(w, r)
		return
	}

	binary := r.Header.Get("Content-Type") == contentTypeBinary
	var (
		ps   []Packet
		perr error
	)
	switch {
	case c.jsonp && binary:
		// engine.io's querystring parse of a Buffer finds no d field: ignored.
	case c.jsonp:
		var text []byte
		text, err = DecodeJSONPBody(body)
		if err == nil {
			ps, perr = DecodePayloadText(text)
		} else if !errors.Is(err, ErrNoJSONPData) {
			perr = err
		}
	case binary:
		ps, perr = DecodePayloadBinary(body)
	default:
		ps, perr = DecodePayloadText(body)
	}
	for _, p := range ps {
		if !c.handlePacket(p) {
			perr = nil
			break
		}
	}
	if perr != nil {
		c.srv.log.Debug("payload parse error", "sid", c.id, "err", perr)
		c.finish(ReasonParseError)
	}

	h := w.Header()
	h["Content-Length"] = []string{"2"}
	h["Content-Type"] = []string{contentTypeOK}
	c.pollingHeaders(h, r)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// refuseBody answers an oversized POST with 413 and closes the session (engine.io destroys the connection).
func (c *Socket) refuseBody(w http.ResponseWriter, r *http.Request) {
	c.srv.log.Debug("POST body over MaxHTTPBufferSize", "sid", c.id, "limit", c.srv.cfg.MaxHTTPBufferSize)
	c.finish(ReasonTransportError)
	h := w.Header()
	corsHeaders(h, r)
	h["Connection"] = []string{"close"}
	h["Content-Length"] = []string{"0"}
	w.WriteHeader(http.StatusRequestEntityTooLarge)
}
