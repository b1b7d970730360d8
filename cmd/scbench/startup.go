package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The startup scenario: time from exec to the first 200 on GET / of the compat bench app (testdata/compat,
// COMPAT_APP=bench: Express 4 with 128 modules), for the socketcluster binary and for Node serving the same app
// through node-harness.js, interleaved run by run in one invocation. Wall is exec to the first 200; CPU is what
// the whole process tree had used at that moment (every thread's on-CPU time from /proc/*/task/*/schedstat).

// Defaults and bounds of the startup scenario.
const (
	DefaultStartupRuns = 7
	DefaultStartupApp  = "bench"
	DefaultCompatDir   = "testdata/compat"
	DefaultNodeBin     = "node"
	// DefaultStartupCache is the module-cache mode of the started binary (see startupCacheModes).
	DefaultStartupCache = "off"
	maxStartupRuns      = 51
	// startupWait bounds one start (exec to the first 200).
	startupWait = 30 * time.Second
	// startupPoll is the interval of GET / while waiting for the first 200.
	startupPoll = time.Millisecond
	// startupPause separates runs, so a killed tree's teardown does not overlap the next start.
	startupPause = 100 * time.Millisecond
)

// startupCacheModes are the --startup-cache values: off (SOCKETCLUSTER_MODULE_CACHE=off), cold (a fresh empty
// cache directory for every run) and warm (one cache directory, filled by an unmeasured start first).
var startupCacheModes = []string{"off", "cold", "warm"}

// startupConfig holds the startup scenario's flags.
type startupConfig struct {
	runs     int
	app      string
	compat   string
	node     string
	cache    string
	nodeOnly bool
}

// addStartupFlags registers the startup scenario's flags.
func addStartupFlags(fs *flag.FlagSet, c *startupConfig) {
	fs.IntVar(&c.runs, "startup-runs", DefaultStartupRuns, "startup: starts per server (medians), interleaved binary/node")
	fs.StringVar(&c.app, "startup-app", DefaultStartupApp, "startup: the compat app (COMPAT_APP) served on GET /")
	fs.StringVar(&c.compat, "compat-dir", DefaultCompatDir, "startup: the compat app directory (worker.js, node-harness.js, node_modules)")
	fs.StringVar(&c.node, "node", DefaultNodeBin, "startup: the node binary for the comparison ('' to skip it)")
	fs.StringVar(&c.cache, "startup-cache", DefaultStartupCache, "startup: module cache of the binary: off, cold or warm")
}

func (c *startupConfig) validate() error {
	switch {
	case c.runs < 1 || c.runs > maxStartupRuns:
		return fmt.Errorf("%w: --startup-runs must be 1..%d", ErrUsage, maxStartupRuns)
	case !slices.Contains(startupCacheModes, c.cache):
		return fmt.Errorf("%w: --startup-cache must be one of %s", ErrUsage, strings.Join(startupCacheModes, ", "))
	case c.app == "" || strings.ContainsAny(c.app, "/\\"):
		return fmt.Errorf("%w: --startup-app must be a file name under apps/", ErrUsage)
	}
	return nil
}

// startSample is one measured start.
type startSample struct{ wall, cpu time.Duration }

// runStartup measures cfg.startup.runs starts of the binary and of node, interleaved, and returns one result per
// server with the medians (the binary's carrying ratios to node's).
func runStartup(ctx context.Context, cfg config, progress io.Writer) ([]result, error) {
	sc := cfg.startup
	dir, err := filepath.Abs(sc.compat)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "express")); err != nil {
		return nil, fmt.Errorf("%w: %s has no node_modules/express (npm ci there first)", ErrUsage, dir)
	}
	cacheRoot, err := os.MkdirTemp("", "scbench-startup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(cacheRoot)
	env := append(os.Environ(), "COMPAT_APP="+sc.app, "NODE_ENV=production", "TZ=UTC")
	binCmd := func(port, run int) *exec.Cmd {
		args := append([]string{"--workerController", filepath.Join(dir, "worker.js"), "--port", strconv.Itoa(port),
			"--listen", "127.0.0.1", "--logLevel", "1", "--workers", strconv.Itoa(cfg.workers)}, strings.Fields(cfg.serverArgs)...)
		cmd := exec.CommandContext(ctx, cfg.serverBin, args...)
		cmd.Dir = dir
		cache := "off"
		switch sc.cache {
		case "cold":
			cache = filepath.Join(cacheRoot, strconv.Itoa(run))
		case "warm":
			cache = filepath.Join(cacheRoot, "warm")
		}
		cmd.Env = append(slices.Clone(env), "SOCKETCLUSTER_MODULE_CACHE="+cache)
		return cmd
	}
	nodeCmd := func(port, _ int) *exec.Cmd {
		cmd := exec.CommandContext(ctx, sc.node, "node-harness.js", sc.app, strconv.Itoa(port))
		cmd.Dir = dir
		cmd.Env = env
		return cmd
	}
	type server struct {
		name    string
		cmd     func(port, run int) *exec.Cmd
		samples []startSample
	}
	servers := []*server{{name: "server", cmd: binCmd}}
	if sc.node != "" {
		servers = append(servers, &server{name: "node", cmd: nodeCmd})
	}
	if sc.cache == "warm" {
		fmt.Fprintf(progress, "startup: filling the module cache (unmeasured start)\n")
		if _, err := measureStart(ctx, binCmd, -1); err != nil {
			return nil, err
		}
	}
	for i := 0; i < sc.runs; i++ {
		for _, s := range servers {
			smp, err := measureStart(ctx, s.cmd, i)
			if err != nil {
				return nil, fmt.Errorf("startup: %s: %w", s.name, err)
			}
			fmt.Fprintf(progress, "startup %d/%d %s: %.1f ms wall, %.1f ms cpu\n", i+1, sc.runs, s.name, ms(smp.wall), ms(smp.cpu))
			s.samples = append(s.samples, smp)
		}
	}
	var out []result
	for _, s := range servers {
		r := result{Scenario: "startup", Target: s.name, Params: map[string]string{
			"app": sc.app, "runs": strconv.Itoa(sc.runs)}}
		if s.name == "server" {
			r.Params["workers"] = strconv.Itoa(cfg.workers)
			r.Params["module_cache"] = sc.cache
		}
		wall, cpu := startMedians(s.samples)
		r.add("ready_wall", "ms", ms(wall))
		r.add("ready_cpu", "ms", ms(cpu))
		out = append(out, r)
	}
	if len(out) == 2 {
		out[0].Baseline = "startup/node"
		for j, m := range out[0].Metrics {
			if v, ok := out[1].get(m.Name); ok && v != 0 {
				out[0].Metrics[j].Ratio = m.Value / v
			}
		}
	}
	return out, nil
}

// startMedians returns the median wall and the median CPU of samples (each its own median).
func startMedians(samples []startSample) (wall, cpu time.Duration) {
	if len(samples) == 0 {
		return 0, 0
	}
	var ws, cs []time.Duration
	for _, s := range samples {
		ws = append(ws, s.wall)
		cs = append(cs, s.cpu)
	}
	slices.Sort(ws)
	slices.Sort(cs)
	return ws[len(ws)/2], cs[len(cs)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// measureStart starts the command mk builds on a free loopback port, polls GET / until it answers 200 (bounded
// by startupWait), reads the process tree's CPU, then kills the tree and waits for it.
func measureStart(ctx context.Context, mk func(port, run int) *exec.Cmd, run int) (startSample, error) {
	port, err := freeLoopbackPort()
	if err != nil {
		return startSample{}, err
	}
	cmd := mk(port, run)
	var tail tailBuf
	w := lineWriter{&tail}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	defer hc.CloseIdleConnections()
	url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/"
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return startSample{}, fmt.Errorf("%w: %v", ErrServerStart, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	kill := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	deadline := began.Add(startupWait)
	for {
		if ok, status := getOK(ctx, hc, url); ok {
			break
		} else if status != 0 {
			kill()
			return startSample{}, fmt.Errorf("%w: GET / answered %d", ErrServerStart, status)
		}
		select {
		case <-done:
			return startSample{}, fmt.Errorf("%w: exited before the first 200: %s", ErrServerStart, tail.String())
		case <-ctx.Done():
			kill()
			return startSample{}, ctx.Err()
		case <-time.After(startupPoll):
		}
		if time.Now().After(deadline) {
			kill()
			return startSample{}, fmt.Errorf("%w: no 200 within %v: %s", ErrServerStart, startupWait, tail.String())
		}
	}
	wall := time.Since(began)
	var cpu time.Duration
	for _, pid := range procTree(cmd.Process.Pid) {
		cpu += schedCPU(pid)
	}
	kill()
	select {
	case <-time.After(startupPause):
	case <-ctx.Done():
	}
	return startSample{wall: wall, cpu: cpu}, nil
}

// getOK does one GET; ok on a 200, status the answer's code otherwise (0: no answer yet). A server that answers
// 404 or 5xx while it is still loading its app is not ready either, so only a final non-2xx code other than
// 404/502/503 counts as a failure.
func getOK(ctx context.Context, hc *http.Client, url string) (bool, int) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, 0
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, 0
	case http.StatusNotFound, http.StatusBadGateway, http.StatusServiceUnavailable:
		return false, 0
	}
	return false, resp.StatusCode
}

// schedCPU sums the on-CPU time of every thread of pid (/proc/<pid>/task/*/schedstat, nanoseconds); it is 0 for
// a process that is gone. Finer than utime+stime, which count 10 ms ticks.
func schedCPU(pid int) time.Duration {
	base := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(base)
	if err != nil {
		return 0
	}
	var n int64
	for _, t := range tasks {
		b, err := os.ReadFile(base + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			n += v
		}
	}
	return time.Duration(n)
}

// freeLoopbackPort returns a port that was free on 127.0.0.1 a moment ago.
func freeLoopbackPort() (int, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return 0, err
	}
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(p)
}

// lineWriter keeps a child's last lines for error messages.
type lineWriter struct{ t *tailBuf }

func (w lineWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.add(line)
	}
	return len(p), nil
}
