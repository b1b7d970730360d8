package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

const (
	// bannerMarker is the line fragment the binary prints once it is listening.
	bannerMarker = "SocketCluster started"
	// startTimeout bounds the wait for the banner and an accepting port.
	startTimeout = 20 * time.Second
	// stopGrace is how long a server gets after SIGTERM before it is killed.
	stopGrace = 5 * time.Second
	// buildTimeout bounds `go build` of the binary.
	buildTimeout = 5 * time.Minute
	// npmTimeout bounds `npm ci` in testdata/clients.
	npmTimeout = 5 * time.Minute
	// pollInterval is the period of every readiness poll.
	pollInterval = 25 * time.Millisecond
	// nodeSlack is added to a client script's own deadline before the harness kills it.
	nodeSlack = 15 * time.Second
	// fakeServerEnv makes the test binary act as a tiny stand-in server (see TestMain), to test the harness itself.
	fakeServerEnv = "SC_E2E_FAKE_SERVER"
)

var (
	// repoRoot is the repository root (the parent of this package's directory).
	repoRoot string
	// workDir is a temporary directory for the whole test run.
	workDir string

	buildOnce sync.Once
	binPath   string
	buildErr  error

	npmOnce sync.Once
	npmErr  error
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeServerEnv) != "" {
		os.Exit(runFakeServer(os.Args[1:]))
	}
	os.Exit(testenv.WithTempModuleCache(func() int { return runTests(m) }))
}

func runTests(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	repoRoot = filepath.Dir(wd)
	if _, err := os.Stat(filepath.Join(repoRoot, "go.mod")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot find the repository root above", wd)
		return 2
	}
	workDir, err = os.MkdirTemp("", "sc-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	defer os.RemoveAll(workDir)
	return m.Run()
}

// serverBinary builds ./cmd/socketcluster once per test run (or returns SC_E2E_SERVER) and fails t if it cannot.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("SC_E2E_SERVER"); p != "" {
			binPath, buildErr = filepath.Abs(p)
			return
		}
		binPath = filepath.Join(workDir, "socketcluster")
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", binPath, "./cmd/socketcluster")
		cmd.Dir = repoRoot
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build -o %s ./cmd/socketcluster: %w\n%s", binPath, err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("cannot build the server binary: %v", buildErr)
	}
	return binPath
}

// clientsDir returns testdata/clients with its node_modules installed (npm ci when missing) or fails t.
func clientsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot, "testdata", "clients")
	npmOnce.Do(func() {
		if _, err := exec.LookPath("node"); err != nil {
			npmErr = fmt.Errorf("node is not on PATH (run scripts/test, which installs what the tests need): %w", err)
			return
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "socketcluster-client", "package.json")); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			npmErr = fmt.Errorf("npm ci in %s failed (run scripts/test, or npm ci there by hand): %w\n%s", dir, err, out)
		}
	})
	if npmErr != nil {
		t.Fatalf("client dependencies: %v", npmErr)
	}
	return dir
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is one running server process.
type server struct {
	Port int
	cmd  *exec.Cmd
	out  *testenv.Buffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done

	stopped bool // set by the first stop; only the test goroutine touches it
}

// Output returns everything the process printed so far (stdout and stderr interleaved).
func (s *server) Output() string { return s.out.String() }

// URL returns http://127.0.0.1:<port><path>.
func (s *server) URL(path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", s.Port, path) }

// exited reports whether the process has ended.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// startServer runs the socketcluster binary with worker.js on a free port, waits until it is ready and stops it when
// t ends. extra are additional flags (e.g. "--ackTimeout", "2").
func startServer(t *testing.T, workerPath string, extra ...string) *server {
	t.Helper()
	bin := serverBinary(t)
	port := freePort(t)
	args := append([]string{"--workerController", workerPath, "--port", strconv.Itoa(port), "--appName", "e2e"}, extra...)
	return startProcess(t, bin, args, port, nil)
}

// startProcess starts bin with args, waits for the banner and the port, and registers the stop in t.Cleanup.
func startProcess(t *testing.T, bin string, args []string, port int, env []string) *server {
	t.Helper()
	s, err := launch(bin, args, port, env)
	if s != nil {
		t.Cleanup(func() { s.stop(t) })
	}
	if err != nil {
		t.Fatalf("server did not start: %v", err)
	}
	return s
}

// launch starts the process and waits for readiness; on error the returned server (if any) still needs stop.
func launch(bin string, args []string, port int, env []string) (*server, error) {
	s := &server{Port: port, out: &testenv.Buffer{}, done: make(chan struct{})}
	// The scenarios read one worker's state over plain HTTP, so they run one
	// worker process unless a test asks for a cluster (the default is one
	// worker per CPU).
	if !slices.Contains(args, "--workers") {
		args = append(append([]string(nil), args...), "--workers", "1")
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = filepath.Dir(bin)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(startTimeout); err != nil {
		return s, fmt.Errorf("%w\ncommand: %s %s\noutput:\n%s", err, bin, strings.Join(args, " "), s.Output())
	}
	return s, nil
}

// waitReady polls until the banner was printed and the port accepts connections.
func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	for {
		if s.exited() {
			return fmt.Errorf("server exited before it was ready (%v)", s.err)
		}
		if strings.Contains(s.Output(), bannerMarker) {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				return nil
			}
		}
		if time.Now().After(deadline) {
			banner := "no banner line containing " + strconv.Quote(bannerMarker)
			if strings.Contains(s.Output(), bannerMarker) {
				banner = "banner printed but " + addr + " does not accept connections"
			}
			return fmt.Errorf("server not ready after %v: %s", timeout, banner)
		}
		time.Sleep(pollInterval)
	}
}

// stop ends the process (SIGTERM to its group, then SIGKILL after stopGrace), reports a crash during the test and
// attaches the output when t failed.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	if s.exited() {
		t.Errorf("server exited during the test (%v); output:\n%s", s.err, s.Output())
		return
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
		t.Errorf("server ignored SIGTERM for %v and was killed", stopGrace)
	}
	if t.Failed() {
		t.Logf("server output:\n%s", s.Output())
	}
}

// nodeResult is the JSON line a client script prints.
type nodeResult struct {
	OK    bool                       `json:"ok"`
	Step  string                     `json:"step"`
	Error string                     `json:"error"`
	Steps map[string]json.RawMessage `json:"steps"`
	Raw   string                     `json:"-"`
	Extra map[string]any             `json:"-"`
}

// runNode runs `node script` in testdata/clients with env and returns its parsed result line; timeout is the
// script's own deadline (passed as SC_TIMEOUT_MS), the process is killed nodeSlack later.
func runNode(t *testing.T, script string, env map[string]string, timeout time.Duration) (nodeResult, error) {
	t.Helper()
	dir := clientsDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+nodeSlack)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SC_TIMEOUT_MS="+strconv.FormatInt(timeout.Milliseconds(), 10))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr testenv.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	res, perr := parseResult(stdout.String())
	if os.Getenv("SC_E2E_VERBOSE") != "" {
		t.Logf("node %s: %s", script, strings.TrimSpace(stdout.String()))
	}
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("node %s killed after %v\nstdout: %s\nstderr: %s", script, timeout+nodeSlack, stdout.String(), stderr.String())
	case perr != nil:
		return res, fmt.Errorf("node %s (%v): %w\nstdout: %s\nstderr: %s", script, runErr, perr, stdout.String(), stderr.String())
	case runErr != nil || !res.OK:
		return res, fmt.Errorf("node %s failed at step %q: %s (exit: %v)\nresult: %s\nstderr: %s", script, res.Step, res.Error, runErr, res.Raw, stderr.String())
	}
	return res, nil
}

// parseResult reads the last JSON line of a script's stdout.
func parseResult(stdout string) (nodeResult, error) {
	var last string
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "{") {
			last = line
		}
	}
	if last == "" {
		return nodeResult{}, errors.New("no JSON result line on stdout")
	}
	var r nodeResult
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		return nodeResult{}, fmt.Errorf("bad result line %q: %w", last, err)
	}
	if err := json.Unmarshal([]byte(last), &r.Extra); err != nil {
		return nodeResult{}, fmt.Errorf("bad result line %q: %w", last, err)
	}
	r.Raw = last
	return r, nil
}

// runFakeServer is the stand-in server used by the harness self-tests: it takes --port, listens, prints the banner
// and serves until SIGTERM; with --exit-early it prints a message and exits 3 instead.
func runFakeServer(args []string) int {
	port := ""
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--port":
			if i+1 < len(args) {
				port = args[i+1]
				i++
			}
		case "--exit-early":
			fmt.Println("fake server: failing on purpose")
			return 3
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		fmt.Println("fake server:", err)
		return 1
	}
	fmt.Println("   " + bannerMarker)
	fmt.Println("   Port: " + port)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	l.Close()
	fmt.Println("fake server: stopped")
	return 0
}
