package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The cluster tests run the real binary as `--workers 3 --stores 2 --balancers 1` behind its balancer and drive it
// with the original socketcluster-client 0.9.37 (Node, and the browser bundle in Chromium): testdata/clients/
// cluster-kill.js (kill -9 of a worker) and cluster-reboot.js (SIGUSR2 rolling reboots, then SIGTERM). The worker
// is testdata/workers/cluster/worker.js. The scripts measure on the client side; this file checks the processes.

const (
	// clusterWorkers, clusterStores and clusterBalancers are the cluster's shape.
	clusterWorkers   = 3
	clusterStores    = 2
	clusterBalancers = 1
	// clusterScriptTimeout bounds one cluster script run (it normally takes 1-3 s).
	clusterScriptTimeout = 40 * time.Second
	// clusterProcWait bounds the waits for the process table to settle.
	clusterProcWait = 10 * time.Second
	// clusterExitWait bounds the master's exit after SIGTERM (its children drain for up to --shutdownGrace).
	clusterExitWait = 15 * time.Second
	// clusterShutdownGrace is the --shutdownGrace given to the cluster, seconds.
	clusterShutdownGrace = "3"
	// clusterMaxSilence bounds the longest interval during the rolling reboots in which no client got any echo
	// answered (the clients reconnect after 50-100 ms and echo every 20 ms; a reboot replaces one worker at a time).
	clusterMaxSilence = 1000 * time.Millisecond
	// clusterRebootRounds is how many rolling reboots run one after the other under load.
	clusterRebootRounds = 2
)

// startTestCluster runs the binary with the cluster fixture (and a copy of the original 0.9.37 browser bundle beside
// it, where the worker may read it) as 3 workers, 2 stores and 1 balancer on a free loopback port, and checks that the
// master's children are exactly those.
func startTestCluster(t *testing.T) *server {
	t.Helper()
	clients := clientsDir(t)
	dir := t.TempDir()
	if err := copyFile(filepath.Join(repoRoot, "testdata", "workers", "cluster", "worker.js"), filepath.Join(dir, "worker.js")); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(clients, "node_modules", "socketcluster-client", "socketcluster.js")
	if err := copyFile(bundle, filepath.Join(dir, "original-socketcluster.js")); err != nil {
		t.Fatalf("copy the original bundle: %v", err)
	}
	port := freePort(t)
	args := []string{"--workerController", filepath.Join(dir, "worker.js"), "--port", strconv.Itoa(port),
		"--appName", clientApp, "--listen", "127.0.0.1", "--logLevel", "3", "--shutdownGrace", clusterShutdownGrace,
		"--workers", strconv.Itoa(clusterWorkers), "--stores", strconv.Itoa(clusterStores),
		"--balancers", strconv.Itoa(clusterBalancers)}
	srv := startProcess(t, serverBinary(t), args, port, nil)
	waitClusterShape(t, srv)
	want, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if got := httpGet(t, srv.URL("/original/socketcluster.js")); !bytes.Equal(got, want) {
		t.Fatalf("the page's bundle through the balancer is %d bytes, want the original 0.9.37 bundle (%d bytes)", len(got), len(want))
	}
	return srv
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, %v", url, resp.StatusCode, err)
	}
	return b
}

// proc is one live (non-zombie) process.
type proc struct {
	pid, ppid int
	args      []string
}

// liveProcs reads every live process from /proc.
func liveProcs() []proc {
	ents, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out = append(out, proc{pid: pid, ppid: ppid, args: strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")})
	}
	return out
}

// descendants returns the live processes below pid, by their sub-command (worker, store, balancer; anything else
// under its full command line).
func descendants(pid int) map[string][]int {
	all := liveProcs()
	out := map[string][]int{}
	parents := map[int]bool{pid: true}
	for changed := true; changed; {
		changed = false
		for _, p := range all {
			if parents[p.ppid] && !parents[p.pid] {
				parents[p.pid] = true
				changed = true
				kind := strings.Join(p.args, " ")
				if len(p.args) == 2 {
					kind = p.args[1]
				}
				out[kind] = append(out[kind], p.pid)
			}
		}
	}
	return out
}

// shapeText renders descendants for messages.
func shapeText(d map[string][]int) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:%v ", k, d[k])
	}
	return strings.TrimSpace(b.String())
}

// waitClusterShape polls until the master's descendants are exactly 3 workers, 2 stores and 1 balancer, and
// returns them.
func waitClusterShape(t *testing.T, srv *server) map[string][]int {
	t.Helper()
	want := map[string]int{"worker": clusterWorkers, "store": clusterStores, "balancer": clusterBalancers}
	deadline := time.Now().Add(clusterProcWait)
	for {
		d := descendants(srv.cmd.Process.Pid)
		ok := len(d) == len(want)
		for k, n := range want {
			ok = ok && len(d[k]) == n
		}
		if ok {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the master's processes are %s; want 1 master + %d workers + %d stores + %d balancer",
				clusterProcWait, shapeText(d), clusterWorkers, clusterStores, clusterBalancers)
		}
		time.Sleep(pollInterval)
	}
}

// readyPIDs returns, per worker id, the pids of its processes in the order the master reported them ready.
func readyPIDs(out string) map[int][]int {
	re := regexp.MustCompile(`ready child=worker (\d+) addr=\S+ pid=(\d+)`)
	m := map[int][]int{}
	for _, g := range re.FindAllStringSubmatch(out, -1) {
		id, _ := strconv.Atoi(g[1])
		pid, _ := strconv.Atoi(g[2])
		m[id] = append(m[id], pid)
	}
	return m
}

// figure reads a number from a script result (path of keys).
func figure(t *testing.T, m map[string]any, keys ...string) float64 {
	t.Helper()
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("result lacks %s: %v", strings.Join(keys, "."), m)
		}
		v = mm[k]
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("result field %s is %v, not a number", strings.Join(keys, "."), v)
	}
	return f
}

// runClusterKill runs cluster-kill.js against a fresh cluster and checks the processes around it: the master saw
// the SIGKILL, the replacement took the same id (and is the process the clients saw), and afterwards the master
// again has exactly its 3 workers, 2 stores and 1 balancer, without the killed one.
func runClusterKill(t *testing.T, env map[string]string) map[string]any {
	srv := startTestCluster(t)
	env["SC_PORT"] = strconv.Itoa(srv.Port)
	env["SC_APP"] = clientApp
	env["SC_WORKERS"] = strconv.Itoa(clusterWorkers)
	res, err := runNode(t, "cluster-kill.js", env, clusterScriptTimeout)
	if err != nil {
		t.Fatal(err)
	}
	victim := int(figure(t, res.Extra, "victim"))
	oldPID := int(figure(t, res.Extra, "oldPid"))
	newPID := int(figure(t, res.Extra, "newPid"))
	if want := fmt.Sprintf("Worker %d died - Exit code: null, signal: SIGKILL", victim); !strings.Contains(srv.Output(), want) {
		t.Fatalf("master log lacks %q", want)
	}
	if got := readyPIDs(srv.Output())[victim]; len(got) != 2 || got[0] != oldPID || got[1] != newPID {
		t.Fatalf("worker %d was ready as pids %v; want the killed %d, then the replacement %d", victim, got, oldPID, newPID)
	}
	d := waitClusterShape(t, srv)
	if slices.Contains(d["worker"], oldPID) || !slices.Contains(d["worker"], newPID) {
		t.Fatalf("workers after the kill: %v (killed %d, replacement %d)", d["worker"], oldPID, newPID)
	}
	var victims []map[string]any
	raw, _ := json.Marshal(res.Extra["victims"])
	_ = json.Unmarshal(raw, &victims)
	for _, v := range victims {
		t.Logf("killed worker %d's client %-22s closed %4vms, reconnected %4vms, first event %4vms, first echo %4vms (on worker %v, %v, %v failed echoes)",
			victim, v["name"], v["closeMs"], v["connectMs"], v["eventMs"], v["ackMs"], v["worker"], v["transport"], v["failedAcks"])
	}
	t.Logf("kill -9 of worker %d (pid %d): %v clients, %v of them on the other workers (%v echoes answered after the kill, no close, no disconnect); replacement pid %d answering %vms after the kill, socket %v; polling routing %v; every clientCount 0 %vms after the clients left; processes: master + %s",
		victim, oldPID, res.Extra["clients"], res.Extra["survivorClients"], res.Extra["survivorAcksAfterKill"], newPID,
		res.Extra["replacementMs"], res.Extra["replacementSocketId"], res.Extra["pollRouting"], res.Extra["clientCountZeroMs"], shapeText(d))
	return res.Extra
}

// TestClusterKill9OriginalClients: kill -9 of the worker serving a Chromium page (original 0.9.37 bundle), with
// Node 0.9.37 clients on every worker (default transports and long-polling-only). See cluster-kill.js for what the
// clients check; the time from the kill to the first event after the reconnect is logged.
func TestClusterKill9OriginalClients(t *testing.T) {
	requireChromium(t)
	runClusterKill(t, map[string]string{"SC_CHROMIUM": chromiumPath, "SC_WS_CLIENTS": "6", "SC_POLL_CLIENTS": "3"})
}

// TestClusterKill9LongPolling: the same with long-polling-only clients: every poll and POST of every session reached
// the worker that owns it through the balancer, before and after the kill.
func TestClusterKill9LongPolling(t *testing.T) {
	res := runClusterKill(t, map[string]string{"SC_BROWSER": "0", "SC_WS_CLIENTS": "0", "SC_POLL_CLIENTS": "6"})
	if n := figure(t, res, "pollRouting", "sessions"); n < float64(clusterWorkers) {
		t.Fatalf("only %v polling sessions checked", n)
	}
}

// TestClusterRollingRebootOriginalClients: SIGUSR2 rolling reboots under load from original Node clients (each
// emitting with an ack every 20 ms): some client gets an answer at least every clusterMaxSilence, failed echoes are
// counted. Then SIGTERM with the clients connected: each sees its connection closed, the master exits 0, no child is
// left and the port is free.
func TestClusterRollingRebootOriginalClients(t *testing.T) {
	srv := startTestCluster(t)
	before := waitClusterShape(t, srv)
	master := srv.cmd.Process.Pid
	srv.stopped = true // this test ends the master itself (SIGTERM from the script) and checks how it exits
	t.Cleanup(func() {
		if !srv.exited() {
			_ = syscall.Kill(master, syscall.SIGTERM)
			select {
			case <-srv.done:
			case <-time.After(clusterExitWait):
				_ = syscall.Kill(-master, syscall.SIGKILL)
				<-srv.done
			}
		}
		if t.Failed() {
			t.Logf("server output:\n%s", srv.Output())
		}
	})
	res, err := runNode(t, "cluster-reboot.js", map[string]string{
		"SC_PORT":           strconv.Itoa(srv.Port),
		"SC_MASTER_PID":     strconv.Itoa(master),
		"SC_APP":            clientApp,
		"SC_WORKERS":        strconv.Itoa(clusterWorkers),
		"SC_WS_CLIENTS":     "6",
		"SC_POLL_CLIENTS":   "3",
		"SC_ROUNDS":         strconv.Itoa(clusterRebootRounds),
		"SC_MAX_SILENCE_MS": strconv.FormatInt(clusterMaxSilence.Milliseconds(), 10),
		"SC_SIGTERM":        "1",
	}, clusterScriptTimeout)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := res.Extra["figures"].(map[string]any)
	t.Logf("%v SIGUSR2 rolling reboots in %vms (workers replaced after ms: %v): %v echoes sent, %v answered, %v failed; longest silence of all clients %vms (bound %v), longest gap of one client %vms; clients closed %vms after SIGTERM",
		f["rounds"], f["rebootMs"], f["replacedMs"], f["sent"], f["acks"], f["failedAcks"], f["silenceMs"], clusterMaxSilence,
		f["maxClientGapMs"], f["closedAfterSigtermMs"])
	if n := strings.Count(srv.Output(), "rolling reboot done"); n != clusterRebootRounds {
		t.Fatalf("master logged %d finished rolling reboots, want %d", n, clusterRebootRounds)
	}
	if n := strings.Count(srv.Output(), "stopped for reboot"); n != clusterRebootRounds*clusterWorkers {
		t.Fatalf("master stopped %d workers for reboot, want %d", n, clusterRebootRounds*clusterWorkers)
	}

	// The script sent SIGTERM: the master must exit 0 within the grace, every child gone with it.
	select {
	case <-srv.done:
	case <-time.After(clusterExitWait):
		t.Fatalf("master still running %v after SIGTERM", clusterExitWait)
	}
	if srv.err != nil {
		t.Fatalf("master exit after SIGTERM: %v, want exit status 0", srv.err)
	}
	var children []int
	for _, pids := range before {
		children = append(children, pids...)
	}
	for _, pids := range readyPIDs(srv.Output()) {
		children = append(children, pids...)
	}
	var left []string
	for _, p := range liveProcs() {
		if p.ppid == master || (slices.Contains(children, p.pid) && len(p.args) == 2 && filepath.Base(p.args[0]) == filepath.Base(srv.cmd.Path)) {
			left = append(left, fmt.Sprintf("%d %v", p.pid, p.args))
		}
	}
	if len(left) > 0 {
		t.Fatalf("processes of the master left after it exited: %v", left)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port)))
	if err != nil {
		t.Fatalf("port %d still held after the master exited: %v", srv.Port, err)
	}
	l.Close()
}
