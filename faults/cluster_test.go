package faults

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

// The cluster under test: the socketcluster binary built once by TestMain (with testdata/pprof.go added by
// go build -overlay, so every process serves pprof on a loopback port and the suite can count its goroutines;
// nothing else differs from the shipped binary), started as a real master with its children. Every process carries an environment tag so the cleanup can prove none is left.

const (
	appName   = "faults"
	tagEnv    = "SC_FAULTS_TAG"
	startWait = 60 * time.Second
	stopWait  = 30 * time.Second
	pollStep  = 20 * time.Millisecond
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scfaults")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "socketcluster")
	overlay, err := pprofOverlay(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-overlay", overlay, "-o", binary, "../cmd/socketcluster")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the binary:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := testenv.WithTempModuleCache(m.Run)
	os.RemoveAll(dir)
	os.Exit(code)
}

// pprofOverlay writes a go build -overlay file that adds testdata/pprof.go to the main package.
func pprofOverlay(dir string) (string, error) {
	src, err := filepath.Abs("testdata/pprof.go")
	if err != nil {
		return "", err
	}
	dst, err := filepath.Abs("../cmd/socketcluster/zz_faults_pprof.go")
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]map[string]string{"Replace": {dst: src}})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, b, 0o600)
}

type testCluster struct {
	tb   testing.TB
	cmd  *exec.Cmd
	out  *testenv.Buffer
	tag  string
	addr string
	done chan struct{}
	err  error
}

func startCluster(tb testing.TB, args ...string) *testCluster {
	tb.Helper()
	worker, err := filepath.Abs("testdata/worker.js")
	if err != nil {
		tb.Fatal(err)
	}
	var tag [8]byte
	_, _ = rand.Read(tag[:])
	tc := &testCluster{tb: tb, out: &testenv.Buffer{}, tag: hex.EncodeToString(tag[:]), done: make(chan struct{})}
	all := append([]string{"--workerController", worker, "--port", "0", "--listen", "127.0.0.1",
		"--appName", appName, "--logLevel", "3", "--shutdownGrace", "2"}, args...)
	tc.cmd = exec.Command(binary, all...)
	tc.cmd.Env = append(os.Environ(), tagEnv+"="+tc.tag)
	tc.cmd.Stdout = tc.out
	tc.cmd.Stderr = tc.out
	if err := tc.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		tc.err = tc.cmd.Wait()
		close(tc.done)
	}()
	tb.Cleanup(tc.cleanup)
	portRe := regexp.MustCompile(`Port: (\d+)`)
	waitUntil(tb, startWait, "the cluster banner", func() bool {
		if tc.exited() {
			tb.Fatalf("master exited before it was ready (%v):\n%s", tc.err, tc.out.String())
		}
		out := tc.out.String()
		m := portRe.FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "SocketCluster started") {
			return false
		}
		tc.addr = net.JoinHostPort("127.0.0.1", m[1])
		return true
	})
	return tc
}

func (tc *testCluster) exited() bool {
	select {
	case <-tc.done:
		return true
	default:
		return false
	}
}

func (tc *testCluster) cleanup() {
	for _, pid := range tc.procs() {
		_ = syscall.Kill(pid, syscall.SIGCONT) // a failed test may leave a stopped worker
	}
	if !tc.exited() {
		_ = tc.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-tc.done:
		case <-time.After(stopWait):
			_ = tc.cmd.Process.Kill()
			<-tc.done
			tc.tb.Errorf("master ignored SIGTERM for %v", stopWait)
		}
	}
	deadline := time.Now().Add(stopWait)
	for len(tc.procs()) > 0 && time.Now().Before(deadline) {
		time.Sleep(pollStep)
	}
	if left := tc.procs(); len(left) > 0 {
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		tc.tb.Errorf("processes left behind: %v", left)
	}
	if tc.tb.Failed() {
		out := tc.out.String()
		if len(out) > 200<<10 {
			out = "...\n" + out[len(out)-200<<10:]
		}
		tc.tb.Logf("cluster output:\n%s", out)
	}
}

// procs lists the live, non-zombie processes of this cluster.
func (tc *testCluster) procs() []int {
	ents, _ := os.ReadDir("/proc")
	want := []byte(tagEnv + "=" + tc.tag + "\x00")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil && bytes.Contains(stat, []byte(") Z ")) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

var readyRe = regexp.MustCompile(`ready child=(worker|store|balancer) (\d+) addr=\S+ pid=(\d+)`)

// roles maps "worker 0", "store 1", "balancer 0" and "master" to the newest pid the master reported.
func (tc *testCluster) roles() map[string]int {
	m := map[string]int{"master": tc.cmd.Process.Pid}
	for _, g := range readyRe.FindAllStringSubmatch(tc.out.String(), -1) {
		m[g[1]+" "+g[2]], _ = strconv.Atoi(g[3])
	}
	return m
}

// waitRole waits until role has a reported pid other than old.
func (tc *testCluster) waitRole(tb testing.TB, role string, old int) int {
	tb.Helper()
	var pid int
	waitUntil(tb, 30*time.Second, role+" replaced", func() bool {
		pid = tc.roles()[role]
		return pid != 0 && pid != old
	})
	return pid
}

var pprofRe = regexp.MustCompile(`faults-pprof (\d+) (127\.0\.0\.1:\d+)`)

func (tc *testCluster) pprofAddr(pid int) string {
	for _, g := range pprofRe.FindAllStringSubmatch(tc.out.String(), -1) {
		if p, _ := strconv.Atoi(g[1]); p == pid {
			return g[2]
		}
	}
	return ""
}

// usage is what one process holds.
type usage struct {
	pid        int
	goroutines int
	fds        int
	rssKiB     int
}

var noKeepAlive = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// measure reads /proc/<pid>/fd and status, and the goroutine count from the process's pprof endpoint.
func (tc *testCluster) measure(pid int) (usage, error) {
	u := usage{pid: pid}
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return u, err
	}
	u.fds = len(ents)
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return u, err
	}
	sc := bufio.NewScanner(bytes.NewReader(st))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmRSS:" {
			u.rssKiB, _ = strconv.Atoi(f[1])
		}
	}
	addr := tc.pprofAddr(pid)
	if addr == "" {
		return u, fmt.Errorf("no pprof address for pid %d", pid)
	}
	res, err := noKeepAlive.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return u, err
	}
	defer res.Body.Close()
	line, _ := bufio.NewReader(io.LimitReader(res.Body, 4096)).ReadString('\n')
	if _, err := fmt.Sscanf(line, "goroutine profile: total %d", &u.goroutines); err != nil {
		return u, fmt.Errorf("pprof answer %q: %w", line, err)
	}
	return u, nil
}

func waitUntil(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(pollStep)
	}
}

var workerAddrRe = regexp.MustCompile(`ready child=worker (\d+) addr=127\.0\.0\.1:(\d+) pid=(\d+)`)

// workerPorts lists the ports of the current workers.
func (tc *testCluster) workerPorts() map[int]bool {
	byID := map[string]int{}
	for _, g := range workerAddrRe.FindAllStringSubmatch(tc.out.String(), -1) {
		byID[g[1]], _ = strconv.Atoi(g[2])
	}
	ports := map[int]bool{}
	for _, p := range byID {
		ports[p] = true
	}
	return ports
}

// tcpConns counts pid's established TCP sockets whose local (local=true) or remote port is in ports, by matching
// the socket inodes of /proc/<pid>/fd with /proc/<pid>/net/tcp.
func tcpConns(pid int, ports map[int]bool, local bool) int {
	inodes := map[string]bool{}
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/tcp")
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != "01" || !inodes[f[9]] {
			continue
		}
		addr := f[2]
		if local {
			addr = f[1]
		}
		i := strings.LastIndexByte(addr, ':')
		if i < 0 {
			continue
		}
		if p, err := strconv.ParseInt(addr[i+1:], 16, 32); err == nil && ports[int(p)] {
			n++
		}
	}
	return n
}
