package balancer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// engineMaxHead bounds a worker's response head (status line and headers)
// on the lean polling path.
const engineMaxHead = 64 << 10

// maxInformational bounds the 1xx responses skipped before the final one
// (net/http's Transport allows 5 too).
const maxInformational = 5

// Errors of the response head reader. Every one of them is a response the
// lean path does not forward; the client gets the balancer's error page.
var (
	errHeadMalformed = errors.New("malformed response head from worker")
	errHeadTooLarge  = errors.New("response head from worker too large")
)

// bodyKind is how a response's body is delimited.
type bodyKind uint8

const (
	bodyNone    bodyKind = iota // 1xx, 204, 304 or Content-Length: 0
	bodyLength                  // Content-Length bytes
	bodyChunked                 // Transfer-Encoding: chunked
	bodyClose                   // until the worker closes the connection
)

// headerField is one header line of a response head: the key in canonical
// form and the value without surrounding blanks.
type headerField struct{ key, value string }

// respHead is a parsed response head. It follows net/http.ReadResponse for
// the responses a worker can send to a GET or POST; anything else (header
// continuation lines, HTTP versions other than 1.0 and 1.1, an unsupported
// Transfer-Encoding) is rejected rather than guessed at.
type respHead struct {
	status int
	fields []headerField // in order; hop-by-hop ones included
	body   bodyKind
	length int64 // for bodyLength
	// close: the connection cannot carry another request afterwards
	// (Connection: close, HTTP/1.0 without keep-alive, a close-delimited body).
	close bool
	// trailers: the keys a chunked response's Trailer field declares, in
	// canonical form (reused).
	trailers []string
}

// readRespHead reads one response head from br into h (its fields slice is
// reused). buf is scratch space for the head's bytes, returned for reuse.
// Informational responses (1xx but 101) are skipped, as net/http's Transport
// does. An EOF before the first byte is io.EOF (the worker never answered);
// anywhere later, io.ErrUnexpectedEOF.
func readRespHead(br *bufio.Reader, h *respHead, buf []byte) ([]byte, error) {
	for informational := 0; ; informational++ {
		if informational > maxInformational {
			return buf, fmt.Errorf("%w: more than %d informational responses", errHeadMalformed, maxInformational)
		}
		var err error
		buf, err = readHeadBytes(br, buf[:0])
		if errors.Is(err, io.EOF) && informational > 0 {
			err = io.ErrUnexpectedEOF // the worker had answered
		}
		if err != nil {
			return buf, err
		}
		if err := parseRespHead(string(buf), h); err != nil {
			return buf, err
		}
		if h.status >= 200 || h.status == http.StatusSwitchingProtocols {
			break
		}
	}
	if h.status == http.StatusSwitchingProtocols {
		return buf, fmt.Errorf("%w: unexpected 101", errHeadMalformed)
	}
	return buf, nil
}

// readHeadBytes appends the lines of one head, up to and including the empty
// line that ends it, to buf.
func readHeadBytes(br *bufio.Reader, buf []byte) ([]byte, error) {
	lineStart := len(buf)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > engineMaxHead {
			return buf, errHeadTooLarge
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			line := buf[lineStart:]
			if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
				if lineStart == 0 {
					return buf, fmt.Errorf("%w: empty status line", errHeadMalformed)
				}
				return buf, nil
			}
			lineStart = len(buf)
		case errors.Is(err, bufio.ErrBufferFull):
			// a line longer than the reader's buffer: keep reading it
		case errors.Is(err, io.EOF):
			if len(buf) == 0 {
				return buf, io.EOF
			}
			return buf, io.ErrUnexpectedEOF
		default:
			return buf, err
		}
	}
}

// parseRespHead parses head (the status line and header lines, each ending
// in "\n" or "\r\n", then an empty line) into h. The strings of h's fields
// are substrings of head.
func parseRespHead(head string, h *respHead) error {
	h.fields, h.trailers = h.fields[:0], h.trailers[:0]
	h.status, h.body, h.length, h.close = 0, bodyNone, 0, false
	line, rest, ok := nextLine(head)
	if !ok {
		return errHeadMalformed
	}
	// status line: HTTP/1.x SP 3DIGIT [SP reason]
	var minor byte
	switch {
	case strings.HasPrefix(line, "HTTP/1.1 "):
		minor = 1
	case strings.HasPrefix(line, "HTTP/1.0 "):
	default:
		return fmt.Errorf("%w: status line %.40q", errHeadMalformed, line)
	}
	code := strings.TrimLeft(line[len("HTTP/1.1 "):], " ")
	if len(code) < 3 || len(code) > 3 && code[3] != ' ' {
		return fmt.Errorf("%w: status line %.40q", errHeadMalformed, line)
	}
	for i := 0; i < 3; i++ {
		c := code[i]
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: status line %.40q", errHeadMalformed, line)
		}
		h.status = h.status*10 + int(c-'0')
	}
	if h.status < 100 {
		return fmt.Errorf("%w: status %d", errHeadMalformed, h.status)
	}
	var (
		lengths, encodings int
		length             string
		chunked            bool
		connClose, keep    bool
		hasTrailer         bool
	)
	for {
		line, rest, ok = nextLine(rest)
		if !ok {
			return errHeadMalformed
		}
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return fmt.Errorf("%w: continuation line", errHeadMalformed)
		}
		line = trimBlanks(line)
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || !validFieldName(k) || !validFieldValue(v) {
			return fmt.Errorf("%w: header line %.40q", errHeadMalformed, line)
		}
		k = http.CanonicalHeaderKey(k)
		v = strings.TrimLeft(v, " \t")
		switch k {
		case "Content-Length":
			if lengths == 0 {
				length = v
			} else if trimBlanks(v) != trimBlanks(length) {
				return fmt.Errorf("%w: differing Content-Length headers", errHeadMalformed)
			}
			lengths++
			if lengths > 1 {
				continue // duplicates collapse to the first, as net/http does
			}
		case "Transfer-Encoding":
			encodings++
			chunked = strings.EqualFold(v, "chunked")
		case "Connection":
			connClose = connClose || hasToken(v, "close")
			keep = keep || hasToken(v, "keep-alive")
		case "Trailer":
			hasTrailer = true
		}
		h.fields = append(h.fields, headerField{key: k, value: v})
	}
	if rest != "" {
		return fmt.Errorf("%w: bytes after the head", errHeadMalformed)
	}
	if minor == 0 {
		// HTTP/1.0: no Transfer-Encoding, persistent only on request
		encodings, chunked = 0, false
		h.close = connClose || !keep
	} else {
		h.close = connClose
	}
	if encodings > 1 || encodings == 1 && !chunked {
		return fmt.Errorf("%w: unsupported Transfer-Encoding", errHeadMalformed)
	}
	n := int64(-1)
	if lengths > 0 {
		var err error
		if n, err = parseLength(trimBlanks(length)); err != nil {
			return err
		}
	}
	switch {
	case h.status < 200 || h.status == http.StatusNoContent || h.status == http.StatusNotModified:
		h.body = bodyNone
	case chunked:
		h.body = bodyChunked
		h.dropField("Content-Length")
		if hasTrailer {
			if err := h.declareTrailers(); err != nil {
				return err
			}
		}
	case n == 0:
		h.body = bodyNone
	case n > 0:
		h.body, h.length = bodyLength, n
	default:
		h.body, h.close = bodyClose, true
	}
	return nil
}

// declareTrailers collects the keys the Trailer fields name, as net/http's
// Transport does (a Trailer field of a response that is not chunked is
// dropped with the other hop-by-hop fields).
func (h *respHead) declareTrailers() error {
	for _, f := range h.fields {
		if f.key != "Trailer" {
			continue
		}
		for v := f.value; v != ""; {
			var k string
			k, v, _ = strings.Cut(v, ",")
			if k = trimBlanks(k); k == "" {
				continue
			}
			k = http.CanonicalHeaderKey(k)
			switch k {
			case "Transfer-Encoding", "Trailer", "Content-Length":
				return fmt.Errorf("%w: trailer key %q", errHeadMalformed, k)
			}
			if !slices.Contains(h.trailers, k) {
				h.trailers = append(h.trailers, k)
			}
		}
	}
	return nil
}

// dropField removes every field named key.
func (h *respHead) dropField(key string) {
	out := h.fields[:0]
	for _, f := range h.fields {
		if f.key != key {
			out = append(out, f)
		}
	}
	h.fields = out
}

// nextLine cuts the first line (without its "\n" or "\r\n") off s.
func nextLine(s string) (line, rest string, ok bool) {
	line, rest, ok = strings.Cut(s, "\n")
	if !ok {
		return "", "", false
	}
	return strings.TrimSuffix(line, "\r"), rest, true
}

// trimBlanks trims spaces and tabs on both ends (textproto.TrimString's set
// for header values).
func trimBlanks(s string) string {
	return strings.Trim(s, " \t")
}

// parseLength parses a Content-Length value: decimal digits only.
func parseLength(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, fmt.Errorf("%w: Content-Length %.20q", errHeadMalformed, s)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: Content-Length %.20q", errHeadMalformed, s)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// hasToken reports whether the comma-separated list v holds token
// (case-insensitive).
func hasToken(v, token string) bool {
	for v != "" {
		var t string
		t, v, _ = strings.Cut(v, ",")
		if strings.EqualFold(trimBlanks(t), token) {
			return true
		}
	}
	return false
}

// validFieldName reports whether k is an RFC 9110 token.
func validFieldName(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validFieldValue reports whether v holds only bytes net/textproto accepts
// in a header value: visible ASCII, space, tab and obs-text (>= 0x80).
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// copyFields sets the response header h to the head's end-to-end fields, as
// the previous http.ReadResponse path did: hop-by-hop fields (and those the
// Connection field names) dropped, Pragma:
// no-cache without Cache-Control adds Cache-Control: no-cache.
func (rh *respHead) copyFields(h http.Header) {
	vals := make([]string, len(rh.fields)) // one backing array for the usual single values
	pragmaNoCache, hasCacheControl, firstPragma := false, false, true
	var conn []string // fields named in Connection are hop-by-hop too
	for _, f := range rh.fields {
		if f.key == "Connection" {
			conn = append(conn, f.value)
		}
	}
	for i, f := range rh.fields {
		switch f.key {
		case "Pragma":
			if firstPragma {
				pragmaNoCache, firstPragma = f.value == "no-cache", false
			}
		case "Cache-Control":
			hasCacheControl = true
		}
		if hopHeader(f.key) || conn != nil && valuesHaveToken(conn, f.key) {
			continue
		}
		if vv, ok := h[f.key]; ok {
			h[f.key] = append(vv, f.value)
			continue
		}
		vals[i] = f.value
		h[f.key] = vals[i : i+1 : i+1]
	}
	if pragmaNoCache && !hasCacheControl {
		h["Cache-Control"] = []string{"no-cache"}
	}
	if len(rh.trailers) > 0 {
		// announced to the client, as the ReverseProxy does
		h["Trailer"] = []string{strings.Join(rh.trailers, ", ")}
	}
}
