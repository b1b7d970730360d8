package e2e

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

// The npm compatibility suite: every app under testdata/compat/apps is served by the socketcluster binary (through
// testdata/compat/worker.js) and by real Node (testdata/compat/node-harness.js), the same requests go to both and
// status, the headers that matter and the body must be identical. COMPAT_README=1 rewrites the
// "## npm compatibility" section of README.md from the results.

const (
	// compatRequestTimeout bounds one request of the suite.
	compatRequestTimeout = 10 * time.Second
	// compatReadmeEnv makes TestNPMCompat rewrite the README compatibility section.
	compatReadmeEnv = "COMPAT_README"
	// compatReadmeHeading starts the README section the suite owns.
	compatReadmeHeading = "## npm compatibility"
)

// compatHeaders are the response headers compared for every case.
var compatHeaders = []string{"Content-Type", "Content-Length", "ETag", "Last-Modified", "Location", "Cache-Control",
	"Content-Range", "Accept-Ranges", "Content-Encoding", "Vary", "Content-Disposition", "X-Powered-By",
	"Content-Security-Policy", "X-Content-Type-Options"}

type compatCase struct {
	name    string
	method  string
	path    string
	header  map[string]string
	body    string
	gzipped bool     // send body gzip-compressed with Content-Encoding: gzip
	extra   []string // more response headers to compare
	pkgs    []string // npm packages the case exercises (besides the app's)
	known   string   // non-empty: a known failure (the case must still fail; the text goes to the table)
}

type compatApp struct {
	name  string
	pkgs  []string
	cases []compatCase
}

func get(name, path string, pkgs ...string) compatCase {
	return compatCase{name: name, method: http.MethodGet, path: path, pkgs: pkgs}
}

func (c compatCase) with(h ...string) compatCase {
	c.header = map[string]string{}
	for i := 0; i+1 < len(h); i += 2 {
		c.header[h[i]] = h[i+1]
	}
	return c
}

func (c compatCase) cmp(h ...string) compatCase { c.extra = append(c.extra, h...); return c }

func post(name, path, contentType, body string, pkgs ...string) compatCase {
	return compatCase{name: name, method: http.MethodPost, path: path, body: body, pkgs: pkgs,
		header: map[string]string{"Content-Type": contentType}}
}

var compatApps = []compatApp{
	{name: "express4", pkgs: []string{"express"}, cases: []compatCase{
		get("hello", "/"),
		get("route param regexp", "/users/42?x=1&y[]=2"),
		get("route param", "/users/bob"),
		get("wildcard", "/files/a/b.txt"),
		get("router mount", "/api/items/3-4").cmp("X-Api"),
		post("router json body", "/api/echo", "application/json", `{"a":[1,2,{"b":null}]}`),
		get("redirect", "/redirect"),
		get("absolute redirect", "/perm"),
		get("cookies", "/cookie").cmp("Set-Cookie"),
		get("negotiate json", "/negotiate").with("Accept", "application/json"),
		get("negotiate text", "/negotiate").with("Accept", "text/plain"),
		get("negotiate 406", "/negotiate").with("Accept", "image/png"),
		get("headers", "/headers").with("User-Agent", "compat", "X-Requested-With", "XMLHttpRequest").cmp("X-One", "X-Multi"),
		get("buffer body", "/buffer"),
		get("sendStatus", "/status/204"),
		get("sendStatus 503", "/status/503"),
		get("next(err)", "/error"),
		get("throw in handler", "/throw"),
		get("async handler", "/async"),
		get("async rejection", "/async-fail"),
		get("streamed write", "/stream"),
		get("404", "/nope"),
		{name: "HEAD", method: http.MethodHead, path: "/"},
		get("etag 304", "/").with("If-None-Match", `"c-Lve95gjOVATpfV8EL5X4nxwjKHE"`),
	}},
	{name: "express4-static", pkgs: []string{"express"}, cases: []compatCase{
		get("file", "/hello.txt"),
		get("css", "/style.css"),
		get("if-none-match 304", "/hello.txt").with("If-None-Match", `W/"3c-0"`),
		get("range", "/hello.txt").with("Range", "bytes=0-4"),
		get("suffix range", "/hello.txt").with("Range", "bytes=-10"),
		get("bad range", "/hello.txt").with("Range", "bytes=500-600"),
		get("dir redirect", "/dir"),
		get("dir index", "/dir/"),
		get("no etag", "/noetag/hello.txt"),
		get("sendFile", "/send-file"),
		get("download", "/download"),
		get("fallthrough", "/missing.txt"),
		get("dotfile", "/../compat/package.json"),
		{name: "HEAD file", method: http.MethodHead, path: "/hello.txt"},
	}},
	{name: "express4-body", pkgs: []string{"express", "body-parser"}, cases: []compatCase{
		post("json", "/json", "application/json", `{"n":1,"s":"x","l":[true,null]}`),
		post("json charset", "/json", "application/json; charset=utf-8", `{"unicode":"h\u00e9llo \u2713"}`),
		post("bad json", "/json", "application/json", `{"n":`),
		post("urlencoded extended", "/form", "application/x-www-form-urlencoded", "a=1&b[c]=2&b[d][]=3&e=%F0%9F%98%80"),
		post("text", "/text", "text/plain", "hello text"),
		post("raw", "/raw", "application/octet-stream", "\x01\x02\x03"),
		post("limit", "/small", "application/json", `{"too":"large for ten bytes"}`),
		post("stream body", "/stream", "application/octet-stream", strings.Repeat("x", 200000)),
		{name: "gzip body", method: http.MethodPost, path: "/json", body: `{"zipped":true}`, gzipped: true,
			header: map[string]string{"Content-Type": "application/json"}},
	}},
	{name: "express4-session", pkgs: []string{"express", "cookie-parser", "express-session"}, cases: []compatCase{
		get("set cookies", "/set-cookies", "cookie-parser").cmp("Set-Cookie"),
		get("read cookies", "/read-cookies", "cookie-parser"),
		get("anonymous", "/me", "express-session"),
		get("login", "/login/ann", "express-session").cmp("Set-Cookie"),
		get("session 1", "/me", "express-session"),
		get("session 2", "/me", "express-session"),
		get("logout", "/logout", "express-session"),
		get("after logout", "/me", "express-session"),
	}},
	{name: "express4-compression", pkgs: []string{"express", "compression", "morgan"}, cases: []compatCase{
		get("gzip", "/big").with("Accept-Encoding", "gzip"),
		get("deflate", "/big").with("Accept-Encoding", "deflate"),
		get("identity", "/big").with("Accept-Encoding", "identity"),
		get("below threshold", "/small").with("Accept-Encoding", "gzip"),
		get("gzip json", "/big-json").with("Accept-Encoding", "gzip"),
		get("gzip streamed", "/streamed").with("Accept-Encoding", "gzip"),
		get("morgan log", "/log", "morgan"),
	}},
	{name: "express4-ejs", pkgs: []string{"express", "ejs"}, cases: []compatCase{
		get("render", "/page?n=2"),
		get("missing view", "/missing"),
	}},
	{name: "express5", pkgs: []string{"express@5"}, cases: []compatCase{
		get("hello", "/"),
		get("param", "/users/7?q=a&q=b"),
		get("named wildcard", "/files/a/b/c.txt"),
		get("optional segment", "/opt/en"),
		get("optional missing", "/opt"),
		get("async handler", "/async"),
		get("async rejection", "/async-fail"),
		post("json", "/json", "application/json", `{"five":5}`),
		get("static", "/static/hello.txt"),
		get("static range", "/static/hello.txt").with("Range", "bytes=2-5"),
		get("404", "/missing"),
	}},
	{name: "libs", pkgs: []string{"express"}, cases: []compatCase{
		get("lodash", "/lib/lodash", "lodash"),
		get("uuid", "/lib/uuid", "uuid"),
		get("jsonwebtoken", "/lib/jsonwebtoken", "jsonwebtoken"),
		get("ajv", "/lib/ajv", "ajv"),
		get("dayjs", "/lib/dayjs", "dayjs"),
		get("validator", "/lib/validator", "validator"),
	}},
}

// compatResponse is the comparable part of one response.
type compatResponse struct {
	Status  int
	Headers map[string]string
	Body    string
}

var (
	sessionCookieRe = regexp.MustCompile(`(sid=)[^;]+`)
	expiresRe       = regexp.MustCompile(`Expires=[^;]+`)
)

func normalizeHeader(name, v string) string {
	if name == "Set-Cookie" {
		v = sessionCookieRe.ReplaceAllString(v, "${1}<session>")
		if !strings.Contains(v, "1970") {
			v = expiresRe.ReplaceAllString(v, "Expires=<date>")
		}
	}
	return v
}

func compatRequest(client *http.Client, base string, c compatCase) (compatResponse, error) {
	var body io.Reader
	if c.body != "" {
		data := []byte(c.body)
		if c.gzipped {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(data)
			_ = zw.Close()
			data = buf.Bytes()
		}
		body = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), compatRequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, body)
	if err != nil {
		return compatResponse{}, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	if c.gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		return compatResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return compatResponse{}, err
	}
	out := compatResponse{Status: resp.StatusCode, Headers: map[string]string{}}
	enc := resp.Header.Get("Content-Encoding")
	var zr io.Reader
	switch enc {
	case "gzip":
		zr, err = gzip.NewReader(bytes.NewReader(raw))
	case "deflate":
		zr, err = zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			zr, err = flate.NewReader(bytes.NewReader(raw)), nil
		}
	}
	if err != nil {
		return compatResponse{}, fmt.Errorf("decode %s body: %w", enc, err)
	}
	if zr != nil {
		if raw, err = io.ReadAll(zr); err != nil {
			return compatResponse{}, fmt.Errorf("decode %s body: %w", enc, err)
		}
	}
	out.Body = string(raw)
	for _, h := range append(append([]string{}, compatHeaders...), c.extra...) {
		if enc != "" && h == "Content-Length" {
			continue // compressed sizes depend on the compressor
		}
		if vs := resp.Header.Values(h); len(vs) > 0 {
			norm := make([]string, len(vs))
			for i, v := range vs {
				norm[i] = normalizeHeader(h, v)
			}
			out.Headers[h] = strings.Join(norm, " | ")
		}
	}
	return out, nil
}

// diffResponses describes how got differs from want ("" when equal).
func diffResponses(want, got compatResponse) string {
	var d []string
	if want.Status != got.Status {
		d = append(d, fmt.Sprintf("status %d, Node %d", got.Status, want.Status))
	}
	names := map[string]bool{}
	for k := range want.Headers {
		names[k] = true
	}
	for k := range got.Headers {
		names[k] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if want.Headers[k] != got.Headers[k] {
			d = append(d, fmt.Sprintf("%s %q, Node %q", k, got.Headers[k], want.Headers[k]))
		}
	}
	if want.Body != got.Body {
		d = append(d, fmt.Sprintf("body %q, Node %q", clip(got.Body), clip(want.Body)))
	}
	return strings.Join(d, "; ")
}

func clip(s string) string {
	const max = 300
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// compatDir returns testdata/compat with node_modules installed (npm ci when missing); it fails without node.
func compatDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(repoRoot, "testdata", "compat")
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: scripts/test needs Node 20")
	}
	compatNpmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "express", "package.json")); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			compatNpmErr = fmt.Errorf("npm ci in %s: %w\n%s", dir, err, out)
		}
	})
	if compatNpmErr != nil {
		t.Fatal(compatNpmErr)
	}
	return dir
}

var (
	compatNpmOnce sync.Once
	compatNpmErr  error
)

// startNodeApp runs the app on Node with the harness and waits for READY; it is stopped when t ends.
func startNodeApp(t testing.TB, dir, app string, port int) *exec.Cmd {
	t.Helper()
	out := &testenv.Buffer{}
	cmd := exec.Command("node", "node-harness.js", app, strconv.Itoa(port))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TZ=UTC", "NODE_ENV=production")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout = io.MultiWriter(out, pw)
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = pw.Close(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "READY" {
				ready <- true
				_, _ = io.Copy(io.Discard, pr)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("node harness for %s exited before READY:\n%s", app, out.String())
		}
	case <-time.After(startTimeout):
		t.Fatalf("node harness for %s not ready after %v:\n%s", app, startTimeout, out.String())
	}
	return cmd
}

// compatOutcome is one case's result for the table.
type compatOutcome struct {
	app, caseName string
	pkgs          []string
	diff          string
	known         string
}

func TestNPMCompat(t *testing.T) {
	dir := compatDir(t)
	bin := serverBinary(t)
	var mu sync.Mutex
	var outcomes []compatOutcome
	for _, app := range compatApps {
		app := app
		t.Run(app.name, func(t *testing.T) {
			nodePort, ourPort := freePort(t), freePort(t)
			startNodeApp(t, dir, app.name, nodePort)
			startProcess(t, bin, []string{"--workerController", filepath.Join(dir, "worker.js"),
				"--port", strconv.Itoa(ourPort), "--listen", "127.0.0.1", "--logLevel", "1", "--workers", "1"}, ourPort,
				[]string{"COMPAT_APP=" + app.name, "TZ=UTC", "NODE_ENV=production"})
			nodeJar, _ := cookiejar.New(nil)
			ourJar, _ := cookiejar.New(nil)
			noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			nodeClient := &http.Client{Jar: nodeJar, CheckRedirect: noRedirect}
			ourClient := &http.Client{Jar: ourJar, CheckRedirect: noRedirect}
			for _, c := range app.cases {
				want, err := compatRequest(nodeClient, fmt.Sprintf("http://127.0.0.1:%d", nodePort), c)
				if err != nil {
					t.Fatalf("%s: Node request failed: %v", c.name, err)
				}
				got, err := compatRequest(ourClient, fmt.Sprintf("http://127.0.0.1:%d", ourPort), c)
				diff := ""
				if err != nil {
					diff = "request failed: " + err.Error()
				} else {
					diff = diffResponses(want, got)
				}
				pkgs := append(append([]string{}, app.pkgs...), c.pkgs...)
				mu.Lock()
				outcomes = append(outcomes, compatOutcome{app: app.name, caseName: c.name, pkgs: pkgs, diff: diff, known: c.known})
				mu.Unlock()
				switch {
				case c.known != "" && diff == "":
					t.Errorf("%s %s: known failure %q now passes: drop the mark", c.method, c.path, c.known)
				case c.known == "" && diff != "":
					t.Errorf("%s %s (%s): %s", c.method, c.path, c.name, diff)
				}
			}
		})
	}
	if os.Getenv(compatReadmeEnv) != "" {
		if err := writeCompatReadme(filepath.Join(repoRoot, "README.md"), dir, outcomes); err != nil {
			t.Fatalf("README: %v", err)
		}
	}
}

// packageVersion reads node_modules/<pkg>/package.json ("express@5" is the express5 alias).
func packageVersion(dir, pkg string) string {
	name := pkg
	if pkg == "express@5" {
		name = "express5"
	}
	data, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
	if err != nil {
		return "?"
	}
	var meta struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(data, &meta) != nil {
		return "?"
	}
	return meta.Version
}

// compatTable renders the README section from the outcomes.
func compatTable(dir string, outcomes []compatOutcome) string {
	type row struct {
		cases, passed int
		fails         []string
	}
	rows := map[string]*row{}
	var order []string
	for _, o := range outcomes {
		for _, p := range o.pkgs {
			r := rows[p]
			if r == nil {
				r = &row{}
				rows[p] = r
				order = append(order, p)
			}
			r.cases++
			if o.diff == "" {
				r.passed++
			} else {
				why := o.known
				if why == "" {
					why = o.diff
				}
				r.fails = append(r.fails, o.app+" "+o.caseName+": "+clip(why))
			}
		}
	}
	var b strings.Builder
	b.WriteString(compatReadmeHeading + "\n\n")
	b.WriteString("Generated by `COMPAT_README=1 go test ./e2e -run TestNPMCompat` (testdata/compat): each app runs in the\n")
	b.WriteString("binary and in Node " + nodeVersion() + "; status, the headers that matter and the body are compared.\n\n")
	b.WriteString("| package | version | result | what fails |\n|---|---|---|---|\n")
	for _, p := range order {
		r := rows[p]
		result := fmt.Sprintf("works (%d/%d cases)", r.passed, r.cases)
		if r.passed < r.cases {
			result = fmt.Sprintf("partial (%d/%d cases)", r.passed, r.cases)
		}
		fails := strings.ReplaceAll(strings.Join(r.fails, "<br>"), "|", "\\|")
		name := p
		if p == "express@5" {
			name = "express (5)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, packageVersion(dir, p), result, fails)
	}
	b.WriteString("\nNot available in workers (fails loudly): crypto ciphers/signatures/key pairs (so RS*/ES* JWTs),\n")
	b.WriteString("brotli, outgoing `http.request`, `net` sockets; async generators and `for await` are engine (goja) gaps.\n")
	return b.String()
}

func nodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "20"
	}
	return strings.TrimSpace(string(out))
}

// writeCompatReadme replaces (or appends) the generated part of the "## npm compatibility" section of the
// README: from its heading to its first "### " subsection (hand-written, kept) or the next "## " section.
func writeCompatReadme(path, dir string, outcomes []compatOutcome) error {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := replaceCompatSection(string(data), compatTable(dir, outcomes))
	return os.WriteFile(path, []byte(text), 0o644)
}

// replaceCompatSection puts section in place of the generated part of text's npm compatibility section.
func replaceCompatSection(text, section string) string {
	start := strings.Index(text, compatReadmeHeading+"\n")
	if start < 0 {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		return text + "\n" + section
	}
	end := len(text)
	rest := text[start+len(compatReadmeHeading):]
	for _, marker := range []string{"\n## ", "\n### "} {
		if next := strings.Index(rest, marker); next >= 0 {
			end = min(end, start+len(compatReadmeHeading)+next+1)
		}
	}
	return text[:start] + section + "\n" + strings.TrimLeft(text[end:], "\n")
}
