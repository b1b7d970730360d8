package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/socketcluster-go/socketcluster/cluster"
	jsrt "github.com/socketcluster-go/socketcluster/runtime"
)

func logLevel(n int) slog.Level {
	switch {
	case n <= 0:
		return slog.LevelError
	case n == 1:
		return slog.LevelWarn
	case n == 2:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

// lockedWriter serialises whole writes from the master's logger and the
// children's forwarded lines onto one stream.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// masterConfig maps the command line onto the master's configuration.
func masterConfig(c *cli.Context) (cluster.MasterConfig, error) {
	opts, err := optionsFromFlags(c)
	if err != nil {
		return cluster.MasterConfig{}, err
	}
	workers, err := parseProcs("workers", c.String("workers"))
	if err != nil {
		return cluster.MasterConfig{}, err
	}
	if c.IsSet("workers") && len(workers) == 0 {
		return cluster.MasterConfig{}, fmt.Errorf("--workers: at least one worker is needed")
	}
	if len(workers) == 0 {
		workers = make([]int, runtime.NumCPU())
	}
	balancers := c.Int("balancerCount")
	if c.IsSet("balancers") {
		b, err := parseProcs("balancers", c.String("balancers"))
		if err != nil {
			return cluster.MasterConfig{}, err
		}
		balancers = len(b)
	}
	stores, err := parseProcs("stores", c.String("stores"))
	if err != nil {
		return cluster.MasterConfig{}, err
	}
	spec := cluster.BalancerSpec{
		Protocol:   opts.Protocol,
		KeyFile:    c.String("protocolKey"),
		CertFile:   c.String("protocolCert"),
		Passphrase: c.String("protocolPassphrase"),
		Controller: absPath(c.String("balancerController")),
	}
	return cluster.MasterConfig{
		Options:             opts,
		WorkerPorts:         workers,
		Balancers:           balancers,
		Stores:              len(stores),
		StoreURL:            c.String("store"),
		Listen:              c.String("listen"),
		Balancer:            spec,
		Grace:               seconds(c.Float64("shutdownGrace")),
		RebootWorkerOnCrash: c.Bool("rebootWorkerOnCrash") && c.Bool("rebootWorkerOnError"),
		MetricsListen:       c.String("metricsListen"),
	}, nil
}

// runMaster is the default command: the master of the process cluster.
func runMaster(c *cli.Context, stdout, stderr io.Writer) error {
	if !c.IsSet("workerController") && c.NArg() > 0 && strings.HasSuffix(c.Args().First(), ".js") && isMasterScript(c.Args().First()) {
		return runScript(c, c.Args().First(), stdout, stderr)
	}
	cfg, err := masterConfig(c)
	if err == nil {
		err = checkTLS(cfg.Balancer)
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	return startMaster(c, cfg, stdout, stderr, nil)
}

// startMaster runs the master until the command's context ends; created,
// if set, sees the master before it starts.
func startMaster(c *cli.Context, cfg cluster.MasterConfig, stdout, stderr io.Writer, created func(*cluster.Master)) error {
	out := &lockedWriter{w: stderr}
	log := slog.New(newLineHandler(out, logLevel(cfg.Options.LogLevel))).With("proc", "master")
	cfg.Logger = log
	cfg.Output = out
	if c.IsSet("moduleCache") {
		// Workers inherit the master's environment: that is how the directory reaches them.
		if err := os.Setenv(jsrt.ModuleCacheEnv, c.String("moduleCache")); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	banner := cfg.Options.LogLevel > 0
	if banner {
		fmt.Fprintln(stdout, "   [Busy] Launching SocketCluster")
	}
	m, err := cluster.NewMaster(cfg)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if created != nil {
		created(m)
	}
	sigs := make(chan os.Signal, 1)
	if c.Bool("rebootOnSignal") && len(rebootSignals) > 0 {
		signal.Notify(sigs, rebootSignals...)
		defer signal.Stop(sigs)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-m.Ready():
		case <-done:
			return
		}
		if banner {
			fmt.Fprintf(stdout, "   [Active] SocketCluster started\n"+
				"            Port: %d\n"+
				"            Master PID: %d\n"+
				"            Balancer count: %d\n"+
				"            Worker count: %d\n"+
				"            Store count: %d\n", m.Port(), os.Getpid(), m.BalancerCount(), m.WorkerCount(), m.StoreCount())
		}
		for {
			select {
			case <-sigs:
				m.KillWorkers()
			case <-done:
				return
			}
		}
	}()
	if err := m.Run(c.Context); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}

// checkTLS validates protocol https: a key and a certificate that load.
func checkTLS(spec cluster.BalancerSpec) error {
	if spec.Protocol != "https" {
		return nil
	}
	if (spec.KeyFile == "" && spec.Key == "") || (spec.CertFile == "" && spec.Cert == "") {
		return fmt.Errorf("protocol https needs a key and a certificate (--protocolKey and --protocolCert, or protocolOptions)")
	}
	_, err := tlsConfig(spec)
	return err
}

// absPath makes a non-empty path absolute (children may run elsewhere).
func absPath(p string) string {
	if p == "" {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
