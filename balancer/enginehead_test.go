package balancer

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRespHead(t *testing.T) {
	cases := []struct {
		name   string
		head   string
		status int
		body   bodyKind
		length int64
		close  bool
		header http.Header // after copyFields
		bad    bool
	}{
		{name: "engine.io polling", head: "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: 2\r\n" +
			"Set-Cookie: io=abc\r\nDate: Wed, 25 Nov 2026 01:00:00 GMT\r\n\r\n",
			status: 200, body: bodyLength, length: 2, header: http.Header{"Content-Type": {"text/plain; charset=UTF-8"},
				"Content-Length": {"2"}, "Set-Cookie": {"io=abc"}, "Date": {"Wed, 25 Nov 2026 01:00:00 GMT"}}},
		{name: "bare LF, no reason, blanks", head: "HTTP/1.1 404\nx-lower:  v1 \t\nX-Lower: v2\nContent-Length: 0\n\n",
			status: 404, body: bodyNone, header: http.Header{"X-Lower": {"v1", "v2"}, "Content-Length": {"0"}}},
		{name: "chunked drops Content-Length", head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 9\r\n\r\n",
			status: 200, body: bodyChunked, header: http.Header{}},
		{name: "close-delimited", head: "HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n",
			status: 200, body: bodyClose, close: true, header: http.Header{"Content-Type": {"x"}}},
		{name: "connection close", head: "HTTP/1.1 500 Internal\r\nConnection: keep-alive, Close\r\nContent-Length: 3\r\n\r\n",
			status: 500, body: bodyLength, length: 3, close: true, header: http.Header{"Content-Length": {"3"}}},
		{name: "HTTP/1.0 closes", head: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
			status: 200, body: bodyLength, length: 1, close: true, header: http.Header{"Content-Length": {"1"}}},
		{name: "HTTP/1.0 keep-alive", head: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n",
			status: 200, body: bodyLength, length: 1, header: http.Header{"Content-Length": {"1"}}},
		{name: "204 keeps its length header", head: "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
			status: 204, body: bodyNone, header: http.Header{"Content-Length": {"7"}}},
		{name: "duplicate lengths collapse", head: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length:  5\r\n\r\n",
			status: 200, body: bodyLength, length: 5, header: http.Header{"Content-Length": {"5"}}},
		{name: "pragma adds cache-control", head: "HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n",
			status: 200, header: http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"no-cache"}, "Content-Length": {"0"}}},
		{name: "hop headers dropped", head: "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nUpgrade: x\r\nContent-Length: 0\r\n\r\n",
			status: 200, header: http.Header{"Content-Length": {"0"}}},
		{name: "differing lengths", head: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", bad: true},
		{name: "signed length", head: "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", bad: true},
		{name: "empty length", head: "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", bad: true},
		{name: "gzip encoding", head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", bad: true},
		{name: "two encodings", head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", bad: true},
		{name: "bad trailer key", head: "HTTP/1.1 200 OK\r\nTrailer: X, content-length\r\nTransfer-Encoding: chunked\r\n\r\n", bad: true},
		{name: "continuation", head: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", bad: true},
		{name: "space before colon", head: "HTTP/1.1 200 OK\r\nX : a\r\n\r\n", bad: true},
		{name: "no colon", head: "HTTP/1.1 200 OK\r\nX\r\n\r\n", bad: true},
		{name: "control byte", head: "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n", bad: true},
		{name: "HTTP/2", head: "HTTP/2.0 200 OK\r\n\r\n", bad: true},
		{name: "short status", head: "HTTP/1.1 20 OK\r\n\r\n", bad: true},
		{name: "status below 100", head: "HTTP/1.1 099 OK\r\n\r\n", bad: true},
		{name: "status word", head: "HTTP/1.1 2000 OK\r\n\r\n", bad: true},
		{name: "no end", head: "HTTP/1.1 200 OK\r\nX: a\r\n", bad: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h respHead
			err := parseRespHead(c.head, &h)
			if c.bad {
				if !errors.Is(err, errHeadMalformed) {
					t.Fatalf("err = %v, want errHeadMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.status != c.status || h.body != c.body || h.length != c.length || h.close != c.close {
				t.Fatalf("got status %d body %d length %d close %v", h.status, h.body, h.length, h.close)
			}
			got := http.Header{}
			h.copyFields(got)
			if !reflect.DeepEqual(got, c.header) {
				t.Fatalf("header %v, want %v", got, c.header)
			}
		})
	}
}

func TestReadRespHead(t *testing.T) {
	long := strings.Repeat("v", 6000) // longer than the 4 KB read buffer
	cases := []struct {
		name   string
		in     string
		status int
		err    error
	}{
		{"skips 100 Continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, nil},
		{"long line", "HTTP/1.1 200 OK\r\nX-Long: " + long + "\r\nContent-Length: 0\r\n\r\n", 200, nil},
		{"nothing", "", 0, io.EOF},
		{"cut head", "HTTP/1.1 200 OK\r\nX: a", 0, io.ErrUnexpectedEOF},
		{"101", "HTTP/1.1 101 Switching Protocols\r\n\r\n", 0, errHeadMalformed},
		{"too large", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: "+long+"\r\n", 12) + "\r\n", 0, errHeadTooLarge},
		{"empty status line", "\r\n", 0, errHeadMalformed},
		{"EOF after a 100", "HTTP/1.1 100 Continue\r\n\r\n", 0, io.ErrUnexpectedEOF},
		{"endless 1xx", strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", maxInformational+2), 0, errHeadMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h respHead
			br := bufio.NewReaderSize(strings.NewReader(c.in), engineBufSize)
			_, err := readRespHead(br, &h, nil)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil || h.status != c.status {
				t.Fatalf("status %d, err %v", h.status, err)
			}
		})
	}
}

// TestCopyEngineBody: every framing gives the bytes http.ReadResponse's body
// gives, and leaves the reader at the next response.
func TestCopyEngineBody(t *testing.T) {
	big := strings.Repeat("b", 3*engineBufSize)
	cases := []struct {
		name, resp, body string
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello"},
		{"large length", "HTTP/1.1 200 OK\r\nContent-Length: 12288\r\n\r\n" + big, big},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;x=y\r\n!\r\n0\r\nX-T: 1\r\n\r\n", "hello!"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "abc"},
		{"no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", ""},
	}
	const next = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(c.resp+next), engineBufSize)
			var h respHead
			if _, err := readRespHead(br, &h, nil); err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			if err := copyEngineBody(rec, br, &h, nil); err != nil {
				t.Fatal(err)
			}
			if rec.Body.String() != c.body {
				t.Fatalf("body %.40q, want %.40q", rec.Body.String(), c.body)
			}
			if _, err := readRespHead(br, &h, nil); err != nil || h.status != 200 {
				t.Fatalf("next response: %d %v", h.status, err)
			}
			ref, err := http.ReadResponse(bufio.NewReader(strings.NewReader(c.resp)), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(ref.Body)
			if string(b) != c.body {
				t.Fatalf("reference body %.40q", b)
			}
		})
	}
	// a close-delimited body runs to EOF; a short one is an error
	br := bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\n\r\nuntil close"))
	var h respHead
	if _, err := readRespHead(br, &h, nil); err != nil || h.body != bodyClose {
		t.Fatalf("close-delimited: %v %d", err, h.body)
	}
	rec := httptest.NewRecorder()
	if err := copyEngineBody(rec, br, &h, nil); err != nil || rec.Body.String() != "until close" {
		t.Fatalf("close-delimited body %q, %v", rec.Body.String(), err)
	}
	br = bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 9000\r\n\r\nshort"))
	if _, err := readRespHead(br, &h, nil); err != nil {
		t.Fatal(err)
	}
	if err := copyEngineBody(httptest.NewRecorder(), br, &h, nil); err == nil {
		t.Fatal("short body: no error")
	}
}

// FuzzParseRespHead: whatever the parser accepts, http.ReadResponse accepts
// too, with the same status, end-to-end header and framing.
func FuzzParseRespHead(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: io=x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\nPragma: no-cache\r\n\r\n",
		"HTTP/1.1 500 x\nContent-Length: 5\nContent-Length: 5\nconnection: close\n\n",
		"HTTP/1.1 200 OK\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, head string) {
		var h respHead
		br := bufio.NewReader(strings.NewReader(head))
		if _, err := readRespHead(br, &h, nil); err != nil {
			return
		}
		ref, rerr := http.ReadResponse(bufio.NewReader(strings.NewReader(head)), &http.Request{Method: http.MethodGet})
		if rerr != nil {
			t.Fatalf("accepted what ReadResponse rejects (%v): %q", rerr, head)
		}
		if ref.StatusCode >= 100 && ref.StatusCode < 200 {
			// Transport skips informational responses; so does readRespHead
			t.Skip("informational response")
		}
		if ref.StatusCode != h.status {
			t.Fatalf("status %d, ReadResponse %d", h.status, ref.StatusCode)
		}
		// what the ReverseProxy forwards: no hop-by-hop fields, none the Connection header names
		listed := map[string]bool{}
		for _, v := range ref.Header["Connection"] {
			for _, tok := range strings.Split(v, ",") {
				if tok = textproto.TrimString(tok); tok != "" {
					listed[http.CanonicalHeaderKey(tok)] = true
				}
			}
		}
		want := http.Header{}
		for k, vv := range ref.Header {
			if !hopHeader(k) && !listed[k] {
				want[k] = vv
			}
		}
		got := http.Header{}
		h.copyFields(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("header %q, ReadResponse %q", got, want)
		}
		switch h.body {
		case bodyChunked:
			if len(ref.TransferEncoding) != 1 || ref.TransferEncoding[0] != "chunked" {
				t.Fatalf("chunked, ReadResponse %v", ref.TransferEncoding)
			}
		case bodyLength:
			if ref.ContentLength != h.length {
				t.Fatalf("length %d, ReadResponse %d", h.length, ref.ContentLength)
			}
		case bodyNone:
			if ref.Body != http.NoBody && ref.ContentLength != 0 {
				t.Fatalf("no body, ReadResponse length %d", ref.ContentLength)
			}
		case bodyClose:
			if ref.ContentLength != -1 || !ref.Close {
				t.Fatalf("close-delimited, ReadResponse length %d close %v", ref.ContentLength, ref.Close)
			}
		}
		if h.close != ref.Close {
			t.Fatalf("close %v, ReadResponse %v", h.close, ref.Close)
		}
	})
}

// TestEngineProxyFraming: worker responses framed by length, chunked and
// by close reach the client whole through the lean path; a malformed head
// is the balancer's error page; the worker connection is reused only after
// a complete keep-alive response.
func TestEngineProxyFraming(t *testing.T) {
	checkLeaks(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	responses := map[string]string{
		"/socketcluster/length":  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
		"/socketcluster/chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
		"/socketcluster/close":   "HTTP/1.1 200 OK\r\nX-Close: 1\r\n\r\nuntil close",
		"/socketcluster/bad":     "HTTP/1.1 2x0 OK\r\n\r\n",
	}
	var wg sync.WaitGroup
	// after the balancer stopped (cleanups run last first): it closes its
	// idle worker connections, which ends their goroutines here
	t.Cleanup(func() { _ = l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					resp := responses[req.URL.Path]
					if _, err := io.WriteString(c, resp); err != nil || !strings.Contains(resp, "Length") && !strings.Contains(resp, "chunked") {
						return // close-delimited (or malformed): end it
					}
				}
			}()
		}
	}()
	_, addr := startBalancer(t, Config{}, map[int]string{0: l.Addr().String()})
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	cases := []struct {
		path   string
		status int
		body   string
		conns  int64 // worker connections opened so far
	}{
		{"length", 200, "hello", 1},
		{"chunked", 200, "abcde", 1},
		{"length", 200, "hello", 1},
		{"close", 200, "until close", 1},
		{"length", 200, "hello", 2},
		{"bad", 500, "Load balancer error - upstream failed", 2},
		{"length", 200, "hello", 3},
	}
	for i, tc := range cases {
		res, got := do(t, c, http.MethodGet, "http://"+addr+"/socketcluster/"+tc.path, "", nil)
		if res.StatusCode != tc.status || got != tc.body {
			t.Fatalf("%d %s: %d %q, want %d %q", i, tc.path, res.StatusCode, got, tc.status, tc.body)
		}
		if n := conns.Load(); n != tc.conns {
			t.Fatalf("%d %s: worker saw %d connections, want %d", i, tc.path, n, tc.conns)
		}
	}
}

func TestWriteUint(t *testing.T) {
	for _, n := range []int{0, 7, 10, 99, 100, 65535, 1 << 40} {
		var b strings.Builder
		bw := bufio.NewWriter(&b)
		writeUint(bw, n)
		_ = bw.Flush()
		if want := strconv.Itoa(n); b.String() != want {
			t.Fatalf("writeUint(%d) = %q", n, b.String())
		}
	}
}

// BenchmarkRespHead reads a typical engine.io polling response head and body
// with readRespHead and, for comparison, http.ReadResponse.
func BenchmarkRespHead(b *testing.B) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain; charset=UTF-8\r\n" +
		"Date: Wed, 25 Nov 2026 01:00:00 GMT\r\nSet-Cookie: io=abc; Path=/; HttpOnly\r\n\r\nok"
	src := strings.NewReader("")
	br := bufio.NewReaderSize(src, engineBufSize)
	b.Run("readRespHead", func(b *testing.B) {
		b.ReportAllocs()
		var h respHead
		var buf []byte
		for i := 0; i < b.N; i++ {
			src.Reset(resp)
			br.Reset(src)
			var err error
			if buf, err = readRespHead(br, &h, buf); err != nil {
				b.Fatal(err)
			}
			hdr := make(http.Header, 8)
			h.copyFields(hdr)
			if err := copyEngineBody(io.Discard, br, &h, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReadResponse", func(b *testing.B) {
		b.ReportAllocs()
		req := &http.Request{Method: http.MethodGet}
		for i := 0; i < b.N; i++ {
			src.Reset(resp)
			br.Reset(src)
			res, err := http.ReadResponse(br, req)
			if err != nil {
				b.Fatal(err)
			}
			hdr := make(http.Header, 8)
			for k, vv := range res.Header {
				if !hopHeader(k) {
					hdr[k] = vv
				}
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
		}
	})
}
