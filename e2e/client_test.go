package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketcluster-go/socketcluster/client"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

// The tests in this file run the project's own client (client/, embedded in the binary and served at
// /socketcluster.js) in real headless Chromium against the real binary. The browser side is
// client/e2e/chromium.mjs (one scenario per run); the worker is client/test/fixtures/worker.js.

const (
	// clientScenarioTimeout bounds one chromium.mjs run (its own deadline; the harness adds nodeSlack).
	clientScenarioTimeout = 45 * time.Second
	// clientApp is the appName every server in this file runs with (cookie n/e2e/ssid).
	clientApp = "e2e"
)

// clientServerArgs are the flags of every server in this file: loopback only and one worker process (the
// scenarios restart the server and check one worker's answers; crossing workers is covered by
// sessions_browser_test.go and the cluster tests).
func clientServerArgs(worker string, port int, extra ...string) []string {
	args := []string{"--workerController", worker, "--port", strconv.Itoa(port), "--appName", clientApp,
		"--listen", "127.0.0.1", "--workers", "1"}
	return append(args, extra...)
}

func clientScript() string { return filepath.Join(repoRoot, "client", "e2e", "chromium.mjs") }

func clientFixture() string {
	return filepath.Join(repoRoot, "client", "test", "fixtures", "worker.js")
}

// startClientServer starts the binary with the fixture worker (or worker) on a free port.
func startClientServer(t *testing.T, worker string, extra ...string) *server {
	t.Helper()
	port := freePort(t)
	return startProcess(t, serverBinary(t), clientServerArgs(worker, port, extra...), port, nil)
}

// runClientScenario runs one chromium.mjs scenario against srv and returns its result.
func runClientScenario(t *testing.T, srv *server, scenario string, env map[string]string) nodeResult {
	t.Helper()
	all := map[string]string{
		"SC_URL":      srv.URL(""),
		"SC_SCENARIO": scenario,
		"SC_APP":      clientApp,
		"SC_CHROMIUM": chromiumPath,
	}
	for k, v := range env {
		all[k] = v
	}
	res, err := runNode(t, clientScript(), all, clientScenarioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestOwnClientServed checks that the binary serves the embedded client at /socketcluster.js and
// /socketcluster.min.js with caching headers when the worker answers 404, and that a conditional request gets 304.
func TestOwnClientServed(t *testing.T) {
	srv := startClientServer(t, clientFixture())
	hc := &http.Client{Timeout: 10 * time.Second}
	cases := []struct {
		path string
		want []byte
	}{
		{"/socketcluster.js", client.Bundle},
		{"/socketcluster.min.js", client.BundleMin},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := hc.Get(srv.URL(tc.path))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, tc.want) {
				t.Fatalf("status %d, %d bytes; want 200 and the embedded %d bytes", resp.StatusCode, len(body), len(tc.want))
			}
			if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
				t.Errorf("Content-Type %q", ct)
			}
			etag := resp.Header.Get("ETag")
			if etag != client.ETag(tc.want) || resp.Header.Get("Cache-Control") == "" {
				t.Fatalf("ETag %q (want %q), Cache-Control %q", etag, client.ETag(tc.want), resp.Header.Get("Cache-Control"))
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL(tc.path), nil)
			req.Header.Set("If-None-Match", etag)
			resp, err = hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotModified {
				t.Fatalf("conditional GET: status %d, want 304", resp.StatusCode)
			}
		})
	}
}

// TestOwnClientInChromium runs our client in Chromium against the binary: WebSocket only, upgrade from polling,
// acks both ways and the ack timeout, subscribe/publish/unsubscribe between two tabs, and the session cookie shared
// by two tabs of one browser context.
func TestOwnClientInChromium(t *testing.T) {
	requireChromium(t)
	clientsDir(t)
	srv := startClientServer(t, clientFixture())
	for _, scenario := range []string{"websocket", "upgrade", "ack", "pubsub", "cookie"} {
		t.Run(scenario, func(t *testing.T) {
			res := runClientScenario(t, srv, scenario, nil)
			t.Logf("%s: %s", scenario, res.Raw)
		})
	}
}

// TestOwnClientFallbackInChromium refuses every WebSocket (the server runs with --transports polling): a page that
// prefers WebSocket falls back to polling, and the default order stays on polling.
func TestOwnClientFallbackInChromium(t *testing.T) {
	requireChromium(t)
	clientsDir(t)
	srv := startClientServer(t, clientFixture(), "--transports", "polling")
	res := runClientScenario(t, srv, "fallback", nil)
	if n, _ := res.Extra["refusedWebSockets"].(float64); n < 1 {
		t.Fatalf("no refused WebSocket recorded: %s", res.Raw)
	}
	t.Logf("fallback: %s", res.Raw)
}

// restartTimes is what the test tells chromium.mjs after restarting the server (wall-clock ms).
type restartTimes struct {
	KilledAt  int64 `json:"killedAt"`
	SpawnedAt int64 `json:"spawnedAt"`
	ReadyAt   int64 `json:"readyAt"`
}

// TestOwnClientReconnectAfterRestartInChromium kills the binary (SIGKILL to its process group) while a page is
// subscribed, starts it again on the same port, and checks that the page reconnects, re-subscribes and gets channel
// messages again. It logs the measured times from the new process's start to the page's first event.
func TestOwnClientReconnectAfterRestartInChromium(t *testing.T) {
	requireChromium(t)
	dir := clientsDir(t)
	bin := serverBinary(t)
	port := freePort(t)
	args := clientServerArgs(clientFixture(), port)
	srv := startProcess(t, bin, args, port, nil)

	ctx, cancel := context.WithTimeout(context.Background(), clientScenarioTimeout+nodeSlack)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", clientScript())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"SC_URL="+srv.URL(""), "SC_SCENARIO=restart", "SC_APP="+clientApp, "SC_CHROMIUM="+chromiumPath,
		"SC_TIMEOUT_MS="+strconv.FormatInt(clientScenarioTimeout.Milliseconds(), 10))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr testenv.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var out strings.Builder
	restarted := false
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if restarted || strings.TrimSpace(line) != `{"phase":"restart"}` {
			continue
		}
		restarted = true
		times, next, err := restartServer(t, srv, bin, args, port)
		if next != nil {
			srv = next
		}
		if err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatal(err)
		}
		b, _ := json.Marshal(times)
		if _, err := stdin.Write(append(b, '\n')); err != nil {
			t.Fatalf("write restart times: %v", err)
		}
	}
	waitErr := cmd.Wait()
	res, perr := parseResult(out.String())
	switch {
	case ctx.Err() != nil:
		t.Fatalf("chromium.mjs killed after %v\nstdout: %s\nstderr: %s", clientScenarioTimeout+nodeSlack, out.String(), stderr.String())
	case perr != nil:
		t.Fatalf("chromium.mjs (%v): %v\nstdout: %s\nstderr: %s", waitErr, perr, out.String(), stderr.String())
	case waitErr != nil || !res.OK:
		t.Fatalf("chromium.mjs failed at step %q: %s\nresult: %s\nstderr: %s", res.Step, res.Error, res.Raw, stderr.String())
	case !restarted:
		t.Fatalf("the scenario never asked for the restart: %s", res.Raw)
	}
	m, _ := json.Marshal(res.Extra["measured"])
	t.Logf("reconnect after restart (ms): %s", m)
}

// restartServer SIGKILLs the running server's process group, starts the binary again on the same port and waits
// until it is ready. It returns the new server (registered for cleanup) when one was started.
func restartServer(t *testing.T, old *server, bin string, args []string, port int) (restartTimes, *server, error) {
	t.Helper()
	var times restartTimes
	old.stopped = true // killed on purpose: its cleanup must not report a crash
	times.KilledAt = time.Now().UnixMilli()
	if err := syscall.Kill(-old.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return times, nil, fmt.Errorf("kill the server: %w", err)
	}
	select {
	case <-old.done:
	case <-time.After(stopGrace):
		return times, nil, fmt.Errorf("the server did not die within %v of SIGKILL", stopGrace)
	}
	times.SpawnedAt = time.Now().UnixMilli()
	next, err := launch(bin, args, port, nil)
	if next != nil {
		t.Cleanup(func() { next.stop(t) })
	}
	if err != nil {
		return times, next, fmt.Errorf("restart on port %d: %w", port, err)
	}
	times.ReadyAt = time.Now().UnixMilli()
	return times, next, nil
}

// TestSeedExampleOwnClientInChromium serves a fresh copy of examples/seed WITHOUT node_modules: the unchanged
// worker.js reads node_modules/socketcluster-client/socketcluster.js, which the binary presents from its embedded
// client, so the page runs our client and shows the random numbers. The same page against the same server then runs
// with the original 0.9.37 bundle (substituted for /socketcluster.js by the browser) and shows them too.
func TestSeedExampleOwnClientInChromium(t *testing.T) {
	requireChromium(t)
	clients := clientsDir(t)
	app := freshSeedCopy(t)
	if _, err := os.Stat(filepath.Join(app, "node_modules")); !os.IsNotExist(err) {
		t.Fatalf("the seed copy has node_modules (%v)", err)
	}
	srv := startClientServer(t, filepath.Join(app, "worker.js"))

	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(srv.URL("/socketcluster.js"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, client.Bundle) {
		t.Fatalf("the seed worker served %d bytes (status %d, %v), want the embedded client (%d bytes)",
			len(body), resp.StatusCode, err, len(client.Bundle))
	}

	original := filepath.Join(clients, "node_modules", "socketcluster-client", "socketcluster.js")
	res := runClientScenario(t, srv, "seed", map[string]string{"SC_ORIGINAL_BUNDLE": original})
	ours, _ := json.Marshal(res.Extra["ours"])
	theirs, _ := json.Marshal(res.Extra["original"])
	t.Logf("our client: %s; original 0.9.37: %s", ours, theirs)
}

// freshSeedCopy copies examples/seed (without any node_modules) to a temporary directory, as a fresh clone has it.
func freshSeedCopy(t *testing.T) string {
	t.Helper()
	src := filepath.Join(repoRoot, "examples", "seed")
	dst := filepath.Join(t.TempDir(), "seed")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	return dst
}
