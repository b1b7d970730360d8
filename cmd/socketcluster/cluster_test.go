package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketcluster-go/socketcluster/balancer"
	"github.com/socketcluster-go/socketcluster/cluster"
	"github.com/socketcluster-go/socketcluster/cluster/engineio"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

// The tests in this file run the real process cluster: this test binary
// (see TestMain) is the master, and the master re-executes it for its
// worker and balancer children. Every process of one cluster carries a
// unique environment tag so the tests can find them in /proc.

const (
	clusterTagEnv    = "SC_CLUSTER_TEST_TAG"
	clusterStartWait = 60 * time.Second
	clusterStopWait  = 30 * time.Second
	pollStep         = 20 * time.Millisecond
)

type testCluster struct {
	tb   testing.TB
	cmd  *exec.Cmd
	out  *testenv.Buffer
	tag  string
	port int
	addr string
	done chan struct{}
	err  error
}

// startCluster starts a master with the cluster fixture and extra flags
// and waits for its banner. Cleanup stops it and checks no process is left.
func startCluster(tb testing.TB, extra ...string) *testCluster {
	tb.Helper()
	worker, err := filepath.Abs("testdata/cluster/worker.js")
	if err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"--workerController", worker, "--port", "0", "--listen", "127.0.0.1",
		"--appName", "ctest", "--logLevel", "3", "--shutdownGrace", "3"}, extra...)
	return startClusterIn(tb, "", args...)
}

// startClusterIn runs the master with exactly args in dir.
func startClusterIn(tb testing.TB, dir string, args ...string) *testCluster {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	var tag [8]byte
	_, _ = rand.Read(tag[:])
	tc := &testCluster{tb: tb, out: &testenv.Buffer{}, tag: hex.EncodeToString(tag[:]), done: make(chan struct{})}
	tc.cmd = exec.Command(exe, args...)
	tc.cmd.Dir = dir
	tc.cmd.Env = append(os.Environ(), cluster.ChildEnv+"=master", clusterTagEnv+"="+tc.tag)
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
	waitUntil(tb, clusterStartWait, "the cluster banner", func() bool {
		if tc.exited() {
			tb.Fatalf("master exited before it was ready (%v):\n%s", tc.err, tc.out.String())
		}
		m := portRe.FindStringSubmatch(tc.out.String())
		if m == nil || !strings.Contains(tc.out.String(), "SocketCluster started") {
			return false
		}
		tc.port, _ = strconv.Atoi(m[1])
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
	if !tc.exited() {
		_ = tc.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-tc.done:
		case <-time.After(clusterStopWait):
			_ = tc.cmd.Process.Kill()
			<-tc.done
			tc.tb.Errorf("master ignored SIGTERM for %v", clusterStopWait)
		}
	}
	deadline := time.Now().Add(clusterStopWait)
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
		tc.tb.Logf("cluster output:\n%s", tc.out.String())
	}
}

// procs lists the live processes of this cluster (master included).
func (tc *testCluster) procs() []int {
	ents, _ := os.ReadDir("/proc")
	want := []byte(clusterTagEnv + "=" + tc.tag + "\x00")
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
			continue // a zombie holds nothing
		}
		pids = append(pids, pid)
	}
	return pids
}

var readyRe = regexp.MustCompile(`ready child=worker (\d+) addr=(\S+) pid=(\d+)`)

// workers returns the current address and pid of every worker, from the
// master's debug log.
func (tc *testCluster) workers() map[int][2]string {
	m := map[int][2]string{}
	for _, g := range readyRe.FindAllStringSubmatch(tc.out.String(), -1) {
		id, _ := strconv.Atoi(g[1])
		m[id] = [2]string{g[2], g[3]}
	}
	return m
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

// who is the fixture's answer to whoami and to HTTP requests.
type who struct {
	ID     int  `json:"id"`
	PID    int  `json:"pid"`
	Leader bool `json:"leader"`
}

// pollClient is a raw engine.io + SC client over long polling (b64 text
// payloads); every request of the session goes through the balancer.
type pollClient struct {
	hc       *http.Client
	base     string
	sid      string
	cid      int
	requests int
	pending  []string
}

func connectPolling(addr string) (*pollClient, error) {
	c := &pollClient{hc: &http.Client{Timeout: 10 * time.Second}, base: "http://" + addr + "/socketcluster/?EIO=3&transport=polling&b64=1"}
	ps, err := c.get()
	if err != nil {
		return nil, err
	}
	var hs struct {
		SID string `json:"sid"`
	}
	if len(ps) == 0 || ps[0].Type != engineio.Open || json.Unmarshal([]byte(ps[0].Data), &hs) != nil {
		return nil, fmt.Errorf("bad handshake %v", ps)
	}
	c.sid = hs.SID
	c.base += "&sid=" + hs.SID
	for _, p := range ps[1:] {
		c.pending = append(c.pending, p.Data)
	}
	if _, err := c.call("ready", nil); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *pollClient) get() ([]engineio.Packet, error) {
	c.requests++
	res, err := c.hc.Get(c.base)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET: %d %s", res.StatusCode, b)
	}
	return engineio.DecodePayloadText(b)
}

func (c *pollClient) call(event string, data any) (json.RawMessage, error) {
	c.cid++
	msg := map[string]any{"event": event, "cid": c.cid}
	if data != nil {
		msg["data"] = data
	}
	b, _ := json.Marshal(msg)
	body := engineio.EncodePayloadText(nil, []engineio.Packet{{Type: engineio.Message, Data: string(b)}})
	c.requests++
	res, err := c.hc.Post(c.base, "text/plain;charset=UTF-8", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	rb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("POST: %d %s", res.StatusCode, rb)
	}
	for tries := 0; tries < 10; tries++ {
		for len(c.pending) > 0 {
			var m struct {
				CID  int             `json:"cid"`
				Data json.RawMessage `json:"data"`
				Ev   string          `json:"event"`
			}
			s := c.pending[0]
			c.pending = c.pending[1:]
			if json.Unmarshal([]byte(s), &m) == nil && m.Ev == "" && m.CID == c.cid {
				return m.Data, nil
			}
		}
		ps, err := c.get()
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.Type == engineio.Message {
				c.pending = append(c.pending, p.Data)
			}
		}
	}
	return nil, fmt.Errorf("no reply to %s", event)
}

func sidWorker(t testing.TB, sid string) int {
	t.Helper()
	id, ok := balancer.WorkerFromID(sid)
	if !ok {
		t.Fatalf("sid %q names no worker", sid)
	}
	return id
}

// TestClusterStickyRouting: every request of a polling session and every
// WebSocket reaches the worker named in its id, new sessions spread over
// all workers, worker 0 is the leader and got leaderstart.
func TestClusterStickyRouting(t *testing.T) {
	tc := startCluster(t, "--workers", "3", "--balancers", "1")
	seen := map[int]int{}
	for i := 0; i < 9; i++ {
		c, err := connectPolling(tc.addr)
		if err != nil {
			t.Fatalf("polling session %d: %v", i, err)
		}
		owner := sidWorker(t, c.sid)
		for j := 0; j < 5; j++ {
			d, err := c.call("whoami", nil)
			if err != nil {
				t.Fatalf("session %d (%s) call %d: %v", i, c.sid, j, err)
			}
			var w who
			_ = json.Unmarshal(d, &w)
			if w.ID != owner || w.Leader != (owner == 0) {
				t.Fatalf("session %s answered by %+v", c.sid, w)
			}
		}
		if c.requests < 12 {
			t.Fatalf("only %d requests", c.requests)
		}
		seen[owner]++
	}
	if len(seen) != 3 {
		t.Fatalf("9 new polling sessions reached workers %v, want all 3", seen)
	}
	for i := 0; i < 3; i++ {
		c, err := dialSC(tc.addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		w, err := c.whoami()
		if err != nil || w.ID != sidWorker(t, c.sid) {
			t.Fatalf("websocket %s answered by %+v (%v)", c.sid, w, err)
		}
		c.ws.Close()
	}
	// a browser's session cookie routes a new connection to its worker
	for id := 0; id < 3; id++ {
		h := http.Header{"Cookie": {"n/ctest/ssid=_w" + strconv.Itoa(id) + "_" + strconv.Itoa(tc.port) + "_0_abcdef"}}
		c, err := dialSC(tc.addr, h)
		if err != nil {
			t.Fatal(err)
		}
		if w, err := c.whoami(); err != nil || w.ID != id {
			t.Fatalf("cookie for worker %d answered by %+v (%v)", id, w, err)
		}
		c.ws.Close()
	}
	if n := strings.Count(tc.out.String(), "[worker 0] leaderstart on worker 0"); n != 1 {
		t.Fatalf("leaderstart seen %d times on worker 0", n)
	}
	if strings.Contains(tc.out.String(), "leaderstart on worker 1") || strings.Contains(tc.out.String(), "leaderstart on worker 2") {
		t.Fatal("leaderstart reached a worker other than 0")
	}
}

// TestClusterWorkerKill9: the other workers' clients never notice; the
// dead worker's clients reconnect; the replacement has the same id.
func TestClusterWorkerKill9(t *testing.T) {
	tc := startCluster(t, "--workers", "3", "--balancers", "1")
	var clients []*scClient
	byWorker := map[int][]*scClient{}
	pids := map[int]int{}
	for i := 0; i < 6; i++ {
		c, err := dialSC(tc.addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.ws.Close()
		w, err := c.whoami()
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		byWorker[w.ID] = append(byWorker[w.ID], c)
		pids[w.ID] = w.PID
	}
	if len(byWorker) < 2 {
		t.Fatalf("6 clients on workers %v; need at least two workers", byWorker)
	}
	victim := sidWorker(t, clients[0].sid)
	start := time.Now()
	if err := syscall.Kill(pids[victim], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, c := range byWorker[victim] {
		select {
		case <-c.closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("client of the killed worker %d not disconnected", victim)
		}
	}
	// reconnect as a browser would: with the session cookie naming the
	// dead worker; measure until the first answer after the reconnect
	cookie := http.Header{"Cookie": {"n/ctest/ssid=" + clients[0].sid}}
	var first time.Duration
	var back time.Duration
	waitUntil(t, 30*time.Second, "a reconnect answered by the replacement worker", func() bool {
		c, err := dialSC(tc.addr, cookie)
		if err != nil {
			return false
		}
		defer c.ws.Close()
		w, err := c.whoami()
		if err != nil {
			return false
		}
		if first == 0 {
			first = time.Since(start)
		}
		if w.ID == victim && w.PID != pids[victim] {
			back = time.Since(start)
			return true
		}
		return false
	})
	t.Logf("kill -9 of worker %d: first answer after reconnect %v, replacement (same id) answering %v", victim, first, back)
	for id, cs := range byWorker {
		if id == victim {
			continue
		}
		for _, c := range cs {
			if c.isClosed() {
				t.Fatalf("client of worker %d noticed the kill of worker %d", id, victim)
			}
			if d, err := c.call("echo", "still here", 5*time.Second); err != nil || string(d) != `"still here"` {
				t.Fatalf("client of worker %d after the kill: %s %v", id, d, err)
			}
		}
	}
	if want := fmt.Sprintf("Worker %d died - Exit code: null, signal: SIGKILL", victim); !strings.Contains(tc.out.String(), want) {
		t.Fatalf("master log lacks %q", want)
	}
}

// TestClusterRollingReboot: SIGUSR2 reboots the workers one at a time
// while HTTP requests keep flowing; not one request fails.
func TestClusterRollingReboot(t *testing.T) {
	tc := startCluster(t, "--workers", "3", "--balancers", "1")
	before := tc.workers()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok, failed int
	var failures []string
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 10 * time.Second}
			defer hc.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := hc.Get("http://" + tc.addr + "/who")
				var w who
				if err == nil {
					err = json.NewDecoder(res.Body).Decode(&w)
					if res.StatusCode != 200 && err == nil {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
					res.Body.Close()
				}
				mu.Lock()
				if err != nil {
					failed++
					failures = append(failures, err.Error())
				} else {
					ok++
				}
				mu.Unlock()
			}
		}()
	}
	waitUntil(t, 10*time.Second, "load flowing", func() bool { mu.Lock(); defer mu.Unlock(); return ok > 50 })
	if err := tc.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 60*time.Second, "rolling reboot done", func() bool {
		return strings.Contains(tc.out.String(), "rolling reboot done")
	})
	close(stop)
	wg.Wait()
	after := tc.workers()
	for id := 0; id < 3; id++ {
		if before[id][1] == after[id][1] {
			t.Errorf("worker %d not rebooted (pid %s)", id, after[id][1])
		}
	}
	t.Logf("rolling reboot under load: %d requests answered, %d failed", ok, failed)
	if failed > 0 {
		t.Fatalf("%d requests failed during the rolling reboot, e.g. %v", failed, failures[:min(3, len(failures))])
	}
	if n := strings.Count(tc.out.String(), "stopped for reboot"); n != 3 {
		t.Fatalf("%d workers stopped for reboot, want 3", n)
	}
}

// TestClusterSIGTERM: the master drains and exits 0; connected clients are
// closed and no child is left.
func TestClusterSIGTERM(t *testing.T) {
	tc := startCluster(t, "--workers", "2")
	c, err := dialSC(tc.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.ws.Close()
	if len(tc.procs()) != 5 {
		t.Fatalf("processes %v, want master + balancer + 2 workers + the default store", tc.procs())
	}
	start := time.Now()
	_ = tc.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-tc.done:
	case <-time.After(clusterStopWait):
		t.Fatal("master did not exit after SIGTERM")
	}
	t.Logf("SIGTERM to exit: %v", time.Since(start))
	if tc.err != nil {
		t.Fatalf("master exit: %v", tc.err)
	}
	if left := tc.procs(); len(left) > 0 {
		t.Fatalf("children left after the master exited: %v", left)
	}
	select {
	case <-c.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("client connection still open")
	}
}

// TestClusterMasterKill9: no child survives the master, and the port is
// free again.
func TestClusterMasterKill9(t *testing.T) {
	tc := startCluster(t, "--workers", "2")
	if _, err := dialSC(tc.addr, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = tc.cmd.Process.Kill()
	<-tc.done
	waitUntil(t, clusterStopWait, "every child gone", func() bool { return len(tc.procs()) == 0 })
	t.Logf("master kill -9: children gone after %v", time.Since(start))
	// A child that is exiting has already lost its environ (procs no longer sees it) a moment before the
	// kernel closes its descriptors, so the port is polled for too.
	waitUntil(t, clusterStopWait, "the port free", func() bool {
		l, err := net.Listen("tcp", tc.addr)
		if err != nil {
			return false
		}
		l.Close()
		return true
	})
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// TestClusterMasterScript runs the seed README's master script unchanged
// (ports made free): three workers on the listed ports, the balancer on
// port, and the master object's events.
func TestClusterMasterScript(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/cluster/worker.js")
	if err != nil {
		t.Fatal(err)
	}
	p := freePorts(t, 4)
	script := fmt.Sprintf(`var SocketCluster = require('socketcluster').SocketCluster;
var socketCluster = new SocketCluster({
    workers: [%d, %d, %d],
    stores: [9001, 9002, 9003],
    balancerCount: 1, // Optional
    port: %d,
    appName: 'myapp',
    workerController: 'worker.js',
    logLevel: 3
});
socketCluster.on('ready', function () {
  console.log('script: ready on ' + socketCluster.options.port);
  setTimeout(function () { socketCluster.killWorkers(); }, 100);
});
socketCluster.on('worker', function (w) { console.log('script: worker ' + w.id); });
socketCluster.on('fail', function (err) { console.log('script: fail ' + err.origin.type + ' ' + err.message); });
`, p[0], p[1], p[2], p[3])
	for name, b := range map[string][]byte{"worker.js": src, "server.js": []byte(script)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tc := startClusterIn(t, dir, "server.js")
	if tc.port != p[3] {
		t.Fatalf("banner port %d, want %d", tc.port, p[3])
	}
	waitUntil(t, 10*time.Second, "the script's ready and worker events", func() bool {
		out := tc.out.String()
		return strings.Contains(out, "script: ready on "+strconv.Itoa(p[3])) && strings.Contains(out, "script: worker 2")
	})
	waitUntil(t, 60*time.Second, "the rolling reboot asked for by killWorkers()", func() bool {
		return strings.Contains(tc.out.String(), "rolling reboot done")
	})
	if n := strings.Count(tc.out.String(), "stopped for reboot"); n != 3 {
		t.Fatalf("killWorkers() rebooted %d workers, want 3", n)
	}
	for i := 0; i < 3; i++ {
		res, err := http.Get("http://127.0.0.1:" + strconv.Itoa(p[i]) + "/")
		if err != nil {
			t.Fatalf("worker %d on its port %d: %v", i, p[i], err)
		}
		var w who
		_ = json.NewDecoder(res.Body).Decode(&w)
		res.Body.Close()
		if w.ID != i {
			t.Fatalf("port %d answered by %+v", p[i], w)
		}
		if i == 1 {
			_ = syscall.Kill(w.PID, syscall.SIGKILL)
		}
	}
	waitUntil(t, 10*time.Second, "the script's fail event", func() bool {
		return strings.Contains(tc.out.String(), "script: fail worker Worker 1 died")
	})
	c, err := dialSC(tc.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.ws.Close()
}

// TestClusterHTTPS: the balancers terminate TLS; socket ids carry secure=1.
func TestClusterHTTPS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	keyFile, certFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	tc := startCluster(t, "--workers", "2", "--protocol", "https", "--protocolKey", keyFile, "--protocolCert", certFile)
	pool := x509.NewCertPool()
	cert, _ := x509.ParseCertificate(der)
	pool.AddCert(cert)
	tlsCfg := &tls.Config{RootCAs: pool}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	defer hc.CloseIdleConnections()
	res, err := hc.Get("https://" + tc.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("https GET: %d", res.StatusCode)
	}
	d := websocket.Dialer{TLSClientConfig: tlsCfg, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("wss://"+tc.addr+"/socketcluster/?EIO=3&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	open, _ := engineio.DecodePacketWS(mt, b)
	var hs struct {
		SID string `json:"sid"`
	}
	_ = json.Unmarshal([]byte(open.Data), &hs)
	if f := strings.Split(hs.SID, "_"); len(f) < 5 || f[3] != "1" {
		t.Fatalf("sid %q over wss is not marked secure", hs.SID)
	}
}

// TestClusterBalancerController: the balancerController's middleware runs
// in the balancer process; a middleware error rejects only its request.
func TestClusterBalancerController(t *testing.T) {
	ctl, err := filepath.Abs("../../balancer/testdata/controller.js")
	if err != nil {
		t.Fatal(err)
	}
	tc := startCluster(t, "--workers", "1", "--balancerController", ctl)
	hc := &http.Client{Timeout: 15 * time.Second}
	defer hc.CloseIdleConnections()
	for _, c := range []struct {
		path string
		code int
	}{{"/blocked", 403}, {"/error", 500}, {"/", 200}} {
		res, err := hc.Get("http://" + tc.addr + c.path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.code {
			t.Fatalf("%s: %d, want %d", c.path, res.StatusCode, c.code)
		}
	}
	if strings.Contains(tc.out.String(), "Balancer 0 died") {
		t.Fatal("a middleware error killed the balancer")
	}
}

// TestClusterCrashLoopBackoff: a worker that keeps dying right after its
// start is restarted with a growing, logged delay and comes back with its
// id once it can start again; the other worker keeps serving meanwhile.
func TestClusterCrashLoopBackoff(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/cluster/worker.js")
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "crash-worker-1")
	// run(worker) throws while the marker for its id exists
	crashing := strings.Replace(string(src), "module.exports.run = function (worker) {",
		"module.exports.run = function (worker) {\n  if (require('fs').existsSync(__dirname + '/crash-worker-' + worker.id)) { throw new Error('told to crash'); }", 1)
	if err := os.WriteFile(filepath.Join(dir, "worker.js"), []byte(crashing), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startClusterIn(t, "", "--workerController", filepath.Join(dir, "worker.js"), "--port", "0", "--listen", "127.0.0.1",
		"--appName", "ctest", "--logLevel", "3", "--shutdownGrace", "3", "--workers", "2")
	pid := tc.workers()[1][1]
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(pid)
	_ = syscall.Kill(p, syscall.SIGKILL)
	waitUntil(t, 30*time.Second, "three delayed restarts", func() bool {
		return strings.Count(tc.out.String(), "crash loop: restart delayed child=worker 1") >= 3
	})
	for _, d := range []string{"delay=100ms", "delay=200ms", "delay=400ms"} {
		if !strings.Contains(tc.out.String(), "crash loop: restart delayed child=worker 1 "+d) {
			t.Fatalf("no restart with %s", d)
		}
	}
	// meanwhile worker 0 serves every new session
	c, err := dialSC(tc.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w, err := c.whoami(); err != nil || w.ID != 0 {
		t.Fatalf("during the crash loop: %+v %v", w, err)
	}
	c.ws.Close()
	_ = os.Remove(marker)
	waitUntil(t, 30*time.Second, "worker 1 back", func() bool {
		w := tc.workers()[1]
		return w[1] != pid && strings.Contains(tc.out.String(), "worker ready id=1")
	})
	// the balancer learns the new table asynchronously: poll
	h := http.Header{"Cookie": {"n/ctest/ssid=_w1_" + strconv.Itoa(tc.port) + "_0_abcdef"}}
	waitUntil(t, 10*time.Second, "the session cookie routed to the new worker 1", func() bool {
		c, err := dialSC(tc.addr, h)
		if err != nil {
			return false
		}
		defer c.ws.Close()
		w, err := c.whoami()
		return err == nil && w.ID == 1
	})
}
