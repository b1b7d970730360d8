package e2e

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

var workerReadyRe = regexp.MustCompile(`ready child=worker (\d+) addr=(\S+)`)

// TestSessionTwoTabsInChromium: one browser context, two tabs, one through the balancer and one straight on the
// other worker process: both sockets are served in one session, session.emit from one worker reaches both tabs,
// and data set in one tab's handler is read in the other's (cluster with 2 workers and a store process).
func TestSessionTwoTabsInChromium(t *testing.T) {
	requireChromium(t)
	worker := filepath.Join(repoRoot, "e2e", "testdata", "sessions", "worker.js")
	port := freePort(t)
	args := []string{"--workerController", worker, "--port", strconv.Itoa(port), "--appName", clientApp,
		"--listen", "127.0.0.1", "--workers", "2", "--stores", "1", "--logLevel", "3"}
	srv := startProcess(t, serverBinary(t), args, port, nil)
	workers := map[string]string{}
	deadline := time.Now().Add(20 * time.Second)
	for len(workers) < 2 && time.Now().Before(deadline) {
		for _, m := range workerReadyRe.FindAllStringSubmatch(srv.Output(), -1) {
			workers[m[1]] = m[2]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(workers) < 2 {
		t.Fatalf("worker addresses not in the master's log:\n%s", srv.Output())
	}
	wj, _ := json.Marshal(workers)
	res, err := runNode(t, "session-tabs.js", map[string]string{
		"SC_URL":      srv.URL("/"),
		"SC_WORKERS":  string(wj),
		"SC_CHROMIUM": chromiumPath,
	}, clientScenarioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("two tabs in session %v on workers %v", res.Extra["ssid"], res.Extra["workers"])
}
