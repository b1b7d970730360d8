package e2e

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const (
	// serverAckTimeoutSeconds is passed as --ackTimeout so the server's ack-timeout scenario stays short.
	serverAckTimeoutSeconds = 2
	// scenarioTimeout is each client script's overall deadline.
	scenarioTimeout = 30 * time.Second
	// clientConcurrency is how many client processes run at once. The scripts mostly wait on the network, so this is
	// independent of GOMAXPROCS (and of go test -parallel).
	clientConcurrency = 6
)

// clientVersions are the original socketcluster-client releases of Profile B (spec section 5).
var clientVersions = []string{"0.9.36", "0.9.37"}

// transportModes are the client transport settings: polling only, websocket only, and the default (polling first,
// then the probe/upgrade to websocket).
var transportModes = []string{"polling", "websocket", "default"}

// scenarioSteps are node-scenario.js steps; "all" runs every step in order on one connection.
var scenarioSteps = []struct {
	name string
	what string
}{
	{"events", "events both ways without acks; the server's 'hello' carries the client's socket id"},
	{"echo", "emit with ack echoing non-ASCII and astral characters, concurrent emits and a 29 KB payload"},
	{"errors", "error acks: res.error('nope') and res.error(new Error(...), data)"},
	{"serverack", "server emit with ack answered by the client's res.end"},
	{"acktimeout", "server emit with ack that the client never answers: the server's ack timeout"},
	{"pubsub", "subscribe, then publish, and receive the published message"},
	{"raw", "raw send both ways (server 'raw' event, client 'raw' event)"},
	{"close", "socket.disconnect(): the client sees 'disconnect', the server 'disconnection' and 'disconnect'"},
	{"all", "every step above in order on one connection"},
}

// TestNodeClients runs the original Node clients against the binary serving testdata/workers/e2e/worker.js:
// one subtest per client version x transport x scenario.
func TestNodeClients(t *testing.T) {
	clientsDir(t)
	worker := filepath.Join(repoRoot, "testdata", "workers", "e2e", "worker.js")
	srv := startServer(t, worker, "--ackTimeout", fmt.Sprint(serverAckTimeoutSeconds))

	// Subtests run from several goroutines at once (t.Run allows that), bounded by a semaphore.
	sem := make(chan struct{}, clientConcurrency)
	for _, client := range clientVersions {
		t.Run(client, func(t *testing.T) {
			for _, mode := range transportModes {
				t.Run(mode, func(t *testing.T) {
					var wg sync.WaitGroup
					for _, step := range scenarioSteps {
						wg.Add(1)
						sem <- struct{}{}
						go func() {
							defer wg.Done()
							defer func() { <-sem }()
							t.Run(step.name, func(t *testing.T) { runScenario(t, srv, client, mode, step.name, step.what) })
						}()
					}
					wg.Wait()
				})
			}
		})
	}
}

// runScenario runs node-scenario.js for one client version, transport mode and step ("all" = every step).
func runScenario(t *testing.T, srv *server, client, mode, step, what string) {
	env := map[string]string{
		"SC_PORT":                  fmt.Sprint(srv.Port),
		"SC_CLIENT":                client,
		"SC_TRANSPORTS":            mode,
		"SC_SERVER_ACK_TIMEOUT_MS": fmt.Sprint(serverAckTimeoutSeconds * 1000),
	}
	if step != "all" {
		env["SC_STEPS"] = step
	}
	if _, err := runNode(t, "node-scenario.js", env, scenarioTimeout); err != nil {
		t.Errorf("%s (client %s, transports %s): %v", what, client, mode, err)
	}
}
