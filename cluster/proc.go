package cluster

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Process kinds of the cluster. The master re-executes its own binary with
// the kind as the (hidden) sub-command.
const (
	KindWorker   = "worker"
	KindBalancer = "balancer"
	KindStore    = "store"
)

// Master <-> child protocol. The master writes the ChildConfig as the first
// JSON line on the child's stdin, then Control lines; the child writes
// Report lines on file descriptor 3. Secrets (the dataKey) only travel on
// these pipes, never on the command line. End of stdin means the master is
// gone: the child shuts down.
const (
	// ReportFD is the child's file descriptor for reports to the master.
	ReportFD = 3
	// ListenerFD is a balancer's inherited public listening socket: the
	// master owns the port for its whole life, so a respawned balancer
	// takes over the same socket and no connection is refused meanwhile.
	ListenerFD = 4
	// ChildEnv is set in every child's environment (value: the kind) so a
	// test binary standing in for the real one can recognise its children.
	ChildEnv = "SOCKETCLUSTER_CHILD"
	// maxControlLine bounds one control line read by a child.
	maxControlLine = 1 << 20
)

// Report types (child -> master).
const (
	ReportReady  = "ready"  // Addr: where the child listens; Handoff: a worker's handoff socket
	ReportNotice = "notice" // Message
	ReportError  = "error"  // Message
)

// Control types (master -> child).
const (
	ControlWorkers = "workers" // Workers: the live table, for balancers
	ControlEmit    = "emit"    // Event: emit on the worker object (leaderstart)
)

// BalancerSpec configures balancer processes.
type BalancerSpec struct {
	Protocol   string `json:"protocol"` // http or https
	KeyFile    string `json:"keyFile,omitempty"`
	CertFile   string `json:"certFile,omitempty"`
	Passphrase string `json:"passphrase,omitempty"`
	// Key and Cert are PEM contents (protocolOptions of a master script);
	// they win over the files.
	Key  string `json:"key,omitempty"`
	Cert string `json:"cert,omitempty"`
	// Controller is the balancerController module (run(loadBalancer)).
	Controller string `json:"controller,omitempty"`
}

// ChildConfig is what a child process needs to start.
type ChildConfig struct {
	Kind string `json:"kind"`
	ID   int    `json:"id"`
	// Listen is the address a worker binds ("127.0.0.1:0" for an
	// ephemeral port); balancers use ListenerFD instead.
	Listen string `json:"listen"`
	// Options are the cluster options (workers use all of them, balancers
	// AppName and LogLevel).
	Options  Options        `json:"options"`
	Balancer BalancerSpec   `json:"balancer"`
	Workers  map[int]string `json:"workers,omitempty"`
	// Stores are the store processes' addresses ("unix:/path") and StoreURL
	// a Redis URL, for workers (see DialEngines).
	Stores   []string `json:"stores,omitempty"`
	StoreURL string   `json:"storeURL,omitempty"`
	// Handoff is where a worker opens its handoff socket (package
	// cluster/handoff); "" for none.
	Handoff string `json:"handoff,omitempty"`
	// GraceMillis bounds the child's drain on SIGTERM.
	GraceMillis int64 `json:"graceMillis"`
}

// Control is one master -> child message.
type Control struct {
	Type    string         `json:"type"`
	Workers map[int]string `json:"workers,omitempty"`
	Event   string         `json:"event,omitempty"`
}

// Report is one child -> master message.
type Report struct {
	Type    string `json:"type"`
	Addr    string `json:"addr,omitempty"`
	Handoff string `json:"handoff,omitempty"`
	Message string `json:"message,omitempty"`
}

// ErrChildProtocol reports a malformed master <-> child message.
var ErrChildProtocol = errors.New("child protocol")

// Child is the child side of the pipes.
type Child struct {
	cfg      ChildConfig
	in       *bufio.Scanner
	reportMu sync.Mutex
	report   io.Writer
}

// OpenChild reads the ChildConfig from in (the child's stdin); reports go
// to report (file descriptor ReportFD).
func OpenChild(in io.Reader, report io.Writer) (*Child, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxControlLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%w: read config: %w", ErrChildProtocol, err)
		}
		return nil, fmt.Errorf("%w: no config on stdin", ErrChildProtocol)
	}
	var cfg ChildConfig
	if err := json.Unmarshal(sc.Bytes(), &cfg); err != nil {
		return nil, fmt.Errorf("%w: config: %w", ErrChildProtocol, err)
	}
	return &Child{cfg: cfg, in: sc, report: report}, nil
}

// Config returns the child's configuration.
func (c *Child) Config() ChildConfig { return c.cfg }

// Report sends one report to the master. Any goroutine.
func (c *Child) Report(r Report) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	c.reportMu.Lock()
	defer c.reportMu.Unlock()
	_, err = c.report.Write(append(b, '\n'))
	return err
}

// Controls calls fn for every control message until stdin ends (the master
// is gone or closed it), then returns. Malformed lines are skipped. Call it
// from one goroutine.
func (c *Child) Controls(fn func(Control)) {
	for c.in.Scan() {
		var m Control
		if json.Unmarshal(c.in.Bytes(), &m) == nil {
			fn(m)
		}
	}
}
