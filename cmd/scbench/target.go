package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// clockTick is USER_HZ, the unit of utime/stime in /proc/<pid>/stat.
	clockTick = 10 * time.Millisecond
	// serverStartWait bounds how long a started server may take to print its port.
	serverStartWait = 60 * time.Second
	// serverStopWait bounds how long a server may drain after SIGTERM before it is killed.
	serverStopWait = 15 * time.Second
	// baselineEnv, when set to "1" in scbench's own environment, makes it serve the baseline instead.
	baselineEnv = "SCBENCH_BASELINE_SERVE"
	// enginePath is the SC endpoint path (the server's default --path).
	enginePath = "/socketcluster/"
)

var (
	// ErrNotLoopback refuses targets outside 127.0.0.0/8 and ::1.
	ErrNotLoopback = errors.New("scbench: target is not a loopback address")
	// ErrServerStart reports a server that exited or stayed silent before it was ready.
	ErrServerStart = errors.New("scbench: server did not start")
)

// target is one server under test: where to connect and which processes are its own.
type target struct {
	name string // "server" or "baseline"
	host string // host:port
	// pids returns the server's processes now (nil when unknown, e.g. --url).
	pids func() []int
	stop func()
	// metricsURL is the server's master /metrics ("" when not known).
	metricsURL string
	// workerHosts are the workers' own host:port (known when scbench chose them: the sessfanout scenario).
	workerHosts []string
}

func (t *target) wsURL() string { return "ws://" + t.host + enginePath + "?EIO=3&transport=websocket" }
func (t *target) pollURL() string {
	return "http://" + t.host + enginePath + "?EIO=3&transport=polling"
}

// cpu is the summed user+system CPU time of the target's processes; ok is false when they are unknown.
func (t *target) cpu() (time.Duration, bool) {
	if t.pids == nil {
		return 0, false
	}
	var total time.Duration
	for _, pid := range t.pids() {
		total += procCPU(pid)
	}
	return total, true
}

// rss is the summed resident set of the target's processes in bytes.
func (t *target) rss() (int64, bool) {
	if t.pids == nil {
		return 0, false
	}
	var total int64
	for _, pid := range t.pids() {
		total += procRSS(pid)
	}
	return total, true
}

// procCPU reads utime+stime of pid (0 if it is gone).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3 (state); utime is field 14, stime 15
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(string(f[11]), 10, 64)
	s, _ := strconv.ParseInt(string(f[12]), 10, 64)
	return time.Duration(u+s) * clockTick
}

// procRSS reads VmRSS of pid in bytes (0 if it is gone).
func procRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// procTree returns root and all its descendants, from the ppid field of /proc/*/stat.
func procTree(root int) []int {
	ents, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(string(f[1]))
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out) && i < 10000; i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// checkLoopback accepts only host:port on 127.0.0.0/8, ::1 or localhost.
func checkLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrNotLoopback, hostport, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q", ErrNotLoopback, hostport)
	}
	return nil
}

// urlTarget targets a running server given as ws://host:port/... or http://host:port/...; its CPU and RSS are
// unknown unless pid is given.
func urlTarget(raw string, pid int) (*target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("scbench: --url: %w", err)
	}
	if err := checkLoopback(u.Host); err != nil {
		return nil, err
	}
	t := &target{name: "server", host: u.Host, stop: func() {}}
	if pid > 0 {
		t.pids = func() []int { return procTree(pid) }
	}
	return t, nil
}

// startProcess runs cmd, waits for a line matching portRe (first group: the port) and then for ready (may equal
// portRe), and returns a target for its process tree.
func startProcess(name string, cmd *exec.Cmd, portRe, readyRe *regexp.Regexp, logw io.Writer) (*target, error) {
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrServerStart, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(done)
	}()
	portc := make(chan string, 1)
	readyc := make(chan struct{}, 1)
	var tail tailBuf
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		port, ready, signalled := "", false, false
		for sc.Scan() {
			line := sc.Text()
			tail.add(line)
			if logw != nil {
				fmt.Fprintf(logw, "[%s] %s\n", name, line)
			}
			if port == "" {
				if m := portRe.FindStringSubmatch(line); m != nil {
					port = m[1]
					portc <- port
				}
			}
			ready = ready || readyRe.MatchString(line)
			if port != "" && ready && !signalled {
				signalled = true
				readyc <- struct{}{}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	pid := cmd.Process.Pid
	stop := func() {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(serverStopWait):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-done
		}
	}
	timeout := time.After(serverStartWait)
	var port string
	for port == "" {
		select {
		case port = <-portc:
		case <-done:
			return nil, fmt.Errorf("%w: %s exited: %s", ErrServerStart, name, tail.String())
		case <-timeout:
			stop()
			return nil, fmt.Errorf("%w: %s printed no port within %v: %s", ErrServerStart, name, serverStartWait, tail.String())
		}
	}
	select {
	case <-readyc:
	case <-done:
		return nil, fmt.Errorf("%w: %s exited: %s", ErrServerStart, name, tail.String())
	case <-timeout:
		stop()
		return nil, fmt.Errorf("%w: %s not ready within %v: %s", ErrServerStart, name, serverStartWait, tail.String())
	}
	return &target{
		name: name,
		host: net.JoinHostPort("127.0.0.1", port),
		pids: func() []int { return procTree(pid) },
		stop: stop,
	}, nil
}

// serverConfig says how to start the real server.
type serverConfig struct {
	bin     string
	worker  string
	workers int
	extra   []string // more flags for the server
	// metrics enables the master's /metrics on a free loopback port (read at the end of each scenario).
	metrics bool
	// workerPorts, when set, are the workers' ports (--workers PORT,PORT...) instead of a count.
	workerPorts []int
}

// startServer starts the socketcluster binary on an ephemeral loopback port.
func startServer(ctx context.Context, cfg serverConfig, logw io.Writer) (*target, error) {
	worker, err := filepath.Abs(cfg.worker)
	if err != nil {
		return nil, err
	}
	workers := strconv.Itoa(cfg.workers)
	if len(cfg.workerPorts) > 0 {
		ps := make([]string, len(cfg.workerPorts))
		for i, p := range cfg.workerPorts {
			ps[i] = strconv.Itoa(p)
		}
		workers = strings.Join(ps, ",")
	}
	args := append([]string{"--workerController", worker, "--port", "0", "--listen", "127.0.0.1",
		"--appName", "scbench", "--logLevel", "1", "--workers", workers}, cfg.extra...)
	metricsAddr := ""
	if cfg.metrics {
		if metricsAddr, err = freeLoopbackAddr(); err != nil {
			return nil, fmt.Errorf("%w: metrics port: %v", ErrServerStart, err)
		}
		args = append(args, "--metricsListen", metricsAddr)
	}
	cmd := exec.CommandContext(ctx, cfg.bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	t, err := startProcess("server", cmd, regexp.MustCompile(`Port: (\d+)`), regexp.MustCompile(`SocketCluster started`), logw)
	if t != nil && metricsAddr != "" {
		t.metricsURL = "http://" + metricsAddr + "/metrics"
	}
	if t != nil {
		for _, p := range cfg.workerPorts {
			t.workerHosts = append(t.workerHosts, net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		}
	}
	return t, err
}

// startBaseline re-executes scbench (or the test binary) as the baseline server.
func startBaseline(ctx context.Context, logw io.Writer) (*target, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), baselineEnv+"=1")
	re := regexp.MustCompile(`^baseline listening on 127\.0\.0\.1:(\d+)$`)
	t, err := startProcess("baseline", cmd, re, re, logw)
	if t != nil {
		t.name = "baseline"
	}
	return t, err
}

// tailBuf keeps the last lines of a child's output for error messages.
type tailBuf struct {
	mu    sync.Mutex
	lines []string
}

const tailLines = 20

func (b *tailBuf) add(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, s)
	if len(b.lines) > tailLines {
		b.lines = b.lines[len(b.lines)-tailLines:]
	}
}

func (b *tailBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
