package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/socketcluster-go/socketcluster/balancer"
	"github.com/socketcluster-go/socketcluster/cluster"
	"github.com/socketcluster-go/socketcluster/cluster/gctune"
	"github.com/socketcluster-go/socketcluster/cluster/handoff"
	"github.com/socketcluster-go/socketcluster/cluster/metrics"
	jsrt "github.com/socketcluster-go/socketcluster/runtime"
	"github.com/socketcluster-go/socketcluster/store"
)

// processStart approximates the process's start (package initialisation) for the start-up log.
var processStart = time.Now()

// childHardStopMargin: a child still running this long after its grace
// period ended (stuck in JavaScript, say) exits anyway.
const childHardStopMargin = 5 * time.Second

// childCommands are the hidden sub-commands the master re-executes the
// binary with. Their configuration arrives on stdin (cluster.OpenChild).
func childCommands(stdout, stderr io.Writer) []*cli.Command {
	return []*cli.Command{
		{
			Name:   cluster.KindWorker,
			Hidden: true,
			Usage:  "internal: one worker process of the cluster",
			Action: func(c *cli.Context) error { return childMain(c.Context, stdout, stderr, runWorkerChild) },
		},
		{
			Name:   cluster.KindStore,
			Hidden: true,
			Usage:  "internal: one store process of the cluster",
			Action: func(c *cli.Context) error { return childMain(c.Context, stdout, stderr, runStoreChild) },
		},
		{
			Name:   cluster.KindBalancer,
			Hidden: true,
			Usage:  "internal: one balancer process of the cluster",
			Action: func(c *cli.Context) error { return childMain(c.Context, stdout, stderr, runBalancerChild) },
		},
	}
}

type childRun func(ctx context.Context, ch *cluster.Child, log *slog.Logger, stdout, stderr io.Writer) error

// childMain opens the pipes to the master, makes the tagged logger and
// stops the child when its stdin ends (the master is gone) or on
// SIGTERM/SIGINT, with a hard exit if the drain hangs.
func childMain(ctx context.Context, stdout, stderr io.Writer, run childRun) error {
	ch, err := cluster.OpenChild(os.Stdin, os.NewFile(cluster.ReportFD, "report"))
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	cfg := ch.Config()
	proc := cfg.Kind + " " + strconv.Itoa(cfg.ID)
	log := slog.New(newLineHandler(stderr, logLevel(cfg.Options.LogLevel))).With("proc", proc)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	grace := time.Duration(cfg.GraceMillis) * time.Millisecond
	go func() {
		<-ctx.Done()
		time.AfterFunc(grace+childHardStopMargin, func() {
			fmt.Fprintf(stderr, "%s ERROR [%s] did not stop within %v: exiting\n", time.Now().Format(time.TimeOnly), proc, grace+childHardStopMargin)
			os.Exit(1)
		})
	}()
	if err := run(ctx, ch, log, stdout, stderr); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}

func runWorkerChild(ctx context.Context, ch *cluster.Child, log *slog.Logger, stdout, stderr io.Writer) error {
	cfg := ch.Config()
	began := time.Now()
	restoreGC := raiseGCForStartup()
	appDir := filepath.Dir(absPath(cfg.Options.WorkerController))
	modCache := openModuleCache(log)
	if modCache != nil {
		defer modCache.Prefetch(appDir).Stop()
	}
	wcfg := cluster.WorkerConfig{Options: cfg.Options, Logger: log, Stdout: stdout, Stderr: stderr}
	addClientFiles(&wcfg)
	engines, err := cluster.DialEngines(ctx, cfg.Stores, cfg.StoreURL, cfg.Options.DataKey, log)
	if err != nil {
		return err
	}
	defer engines.Close()
	engines.Apply(&wcfg)
	dialed := time.Now()
	w, err := cluster.NewWorker(wcfg)
	restoreGC()
	if err != nil {
		return err
	}
	logStartup(log, began, dialed)
	if modCache != nil {
		if err := modCache.Record(appDir); err != nil {
			log.Debug("module cache not written", "err", err)
		}
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	tcpAddr := l.Addr().String()
	l, handoffPath := listenHandoff(l, cfg.Handoff, log)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go gctune.Run(ctx, gctune.DefaultMinHeap, gctune.DefaultInterval)
	go func() {
		ch.Controls(func(c cluster.Control) {
			if c.Type == cluster.ControlEmit && c.Event != "" {
				_ = w.EmitWorker(c.Event)
			}
		})
		log.Debug("master gone: stopping")
		cancel()
	}()
	if err := ch.Report(cluster.Report{Type: cluster.ReportReady, Addr: tcpAddr, Handoff: handoffPath}); err != nil {
		log.Warn("ready report failed", "err", err)
	}
	return w.Serve(ctx, l, time.Duration(cfg.GraceMillis)*time.Millisecond)
}

// startupGCPercent is the collector percentage while a worker loads its app. The heap grows from nothing to a
// few tens of MB then (Express: about 25 MB allocated, 10 MB live), and at GOGC=100 the collector runs over and
// over on the small early heap: 400 cut the CPU of a cold Express start-up by about a third for about 7 MB more
// peak RSS (README "Start-up").
const startupGCPercent = 400

// raiseGCForStartup sets startupGCPercent unless the user tuned the collector (GOGC or GOMEMLIMIT in the
// environment) or GOGC is already higher or off; restore puts the base back (before gctune.Run, which takes
// the percentage it finds as its base).
func raiseGCForStartup() (restore func()) {
	if gctune.UserTuned(os.Getenv) {
		return func() {}
	}
	base := debug.SetGCPercent(startupGCPercent)
	if base < 0 || base >= startupGCPercent {
		debug.SetGCPercent(base)
		return func() {}
	}
	return func() { debug.SetGCPercent(base) }
}

// openModuleCache opens the host-wide module cache named by jsrt.ModuleCacheEnv (set by the master from
// --moduleCache); nil when it is off or cannot be used (start-up then just compiles everything itself).
func openModuleCache(log *slog.Logger) *jsrt.ModuleCache {
	dir := os.Getenv(jsrt.ModuleCacheEnv)
	if dir == jsrt.ModuleCacheOff {
		return nil
	}
	c, err := jsrt.OpenModuleCache(dir, log)
	if err != nil {
		log.Debug("module cache off", "err", err)
		return nil
	}
	return c
}

// logStartup reports at Debug where the worker's start-up went: process start to dialed stores, then loading
// the worker controller (run(worker) included), split by module-loading phase (runtime.LoadStats). "bodies" is
// what is left of the load: running module bodies and run(worker), creating the VM and its core modules, GC.
func logStartup(log *slog.Logger, began, dialed time.Time) {
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	now := time.Now()
	s := jsrt.ReadLoadStats()
	load := now.Sub(dialed)
	bodies := load - s.Resolve - s.Read - s.Rewrite - s.Parse - s.Compile - s.JSON - s.PrefetchWait
	log.Debug("start-up", "total", now.Sub(processStart).Round(time.Microsecond),
		"init", began.Sub(processStart).Round(time.Microsecond), "dial", dialed.Sub(began).Round(time.Microsecond),
		"load", load.Round(time.Microsecond), "modules", s.Modules, "cacheHits", s.CacheHits,
		"prefetched", s.Prefetched, "prefetchCPU", s.PrefetchCPU.Round(time.Microsecond),
		"prefetchWait", s.PrefetchWait.Round(time.Microsecond),
		"resolve", s.Resolve.Round(time.Microsecond), "read", s.Read.Round(time.Microsecond),
		"rewrite", s.Rewrite.Round(time.Microsecond), "parse", s.Parse.Round(time.Microsecond),
		"compile", s.Compile.Round(time.Microsecond), "json", s.JSON.Round(time.Microsecond),
		"jsonPrefetched", s.JSONPrefetched, "bodies", bodies.Round(time.Microsecond))
}

// listenHandoff adds the worker's handoff socket at path to l (balancers
// then hand WebSocket connections over instead of tunnelling them); it
// returns l unchanged and "" when path is empty or the socket cannot be
// opened.
func listenHandoff(l net.Listener, path string, log *slog.Logger) (net.Listener, string) {
	if path == "" || !handoff.Supported {
		return l, ""
	}
	hl, err := handoff.Listen(l, handoff.Config{Path: path, Logger: log})
	if err != nil {
		log.Warn("no handoff socket: the balancers tunnel this worker's WebSockets", "err", err)
		return l, ""
	}
	return hl, hl.Path()
}

// runStoreChild serves one store (spec 4.1) on its UNIX socket; the master
// restarts a dead store on the same path, so workers reconnect to it.
func runStoreChild(ctx context.Context, ch *cluster.Child, log *slog.Logger, stdout, stderr io.Writer) error {
	cfg := ch.Config()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		ch.Controls(func(cluster.Control) {})
		log.Debug("master gone: stopping")
		cancel()
	}()
	reg := metrics.NewProcessRegistry()
	ops := metrics.NewStoreOps(reg, store.Actions)
	serveChildMetrics(ctx, ch, log, reg)
	if err := ch.Report(cluster.Report{Type: cluster.ReportReady, Addr: cfg.Listen}); err != nil {
		log.Warn("ready report failed", "err", err)
	}
	return store.ListenAndServe(ctx, "unix", cfg.Listen, store.ServerOptions{Secret: cfg.Options.DataKey, Logger: log,
		OnCommand: ops.Count})
}

func runBalancerChild(ctx context.Context, ch *cluster.Child, log *slog.Logger, stdout, stderr io.Writer) error {
	cfg := ch.Config()
	bcfg := balancer.Config{AppName: cfg.Options.AppName, EnginePath: cfg.Options.Path, Logger: log,
		HeaderTimeout: cfg.Options.HeaderTimeout}
	if cfg.Balancer.Protocol == "https" {
		tc, err := tlsConfig(cfg.Balancer)
		if err != nil {
			return err
		}
		bcfg.TLS = tc
	}
	if cfg.Balancer.Controller != "" {
		ctl, err := balancer.LoadController(cfg.Balancer.Controller, log, stdout, stderr)
		if err != nil {
			return err
		}
		defer ctl.Close()
		ctl.Apply(&bcfg)
	}
	b := balancer.New(bcfg)
	b.SetWorkers(cfg.Workers)
	reg := metrics.NewProcessRegistry()
	metrics.RegisterBalancer(reg, func() int { return len(b.Workers()) })
	f := os.NewFile(cluster.ListenerFD, "listener")
	l, err := net.FileListener(f)
	_ = f.Close()
	if err != nil {
		return fmt.Errorf("inherited listener: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		ch.Controls(func(c cluster.Control) {
			if c.Type == cluster.ControlWorkers {
				b.SetWorkers(c.Workers)
				log.Debug("worker table", "workers", c.Workers)
			}
		})
		log.Debug("master gone: stopping")
		cancel()
	}()
	serveChildMetrics(ctx, ch, log, reg)
	if err := ch.Report(cluster.Report{Type: cluster.ReportReady, Addr: l.Addr().String()}); err != nil {
		log.Warn("ready report failed", "err", err)
	}
	return b.Serve(ctx, l, time.Duration(cfg.GraceMillis)*time.Millisecond)
}

// tlsConfig loads protocolOptions: PEM key and certificate chain (contents
// or files); a key in legacy encrypted PEM is decrypted with the passphrase.
func tlsConfig(spec cluster.BalancerSpec) (*tls.Config, error) {
	keyPEM, certPEM := []byte(spec.Key), []byte(spec.Cert)
	var err error
	if len(keyPEM) == 0 {
		if keyPEM, err = os.ReadFile(spec.KeyFile); err != nil {
			return nil, fmt.Errorf("protocolOptions key: %w", err)
		}
	}
	if len(certPEM) == 0 {
		if certPEM, err = os.ReadFile(spec.CertFile); err != nil {
			return nil, fmt.Errorf("protocolOptions cert: %w", err)
		}
	}
	if block, _ := pem.Decode(keyPEM); block != nil && x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck // legacy PEM encryption is what Node's passphrase option reads
		if spec.Passphrase == "" {
			return nil, fmt.Errorf("protocolOptions: the key is encrypted and no passphrase was given")
		}
		der, err := x509.DecryptPEMBlock(block, []byte(spec.Passphrase)) //nolint:staticcheck // see above
		if err != nil {
			return nil, fmt.Errorf("protocolOptions passphrase: %w", err)
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der})
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("protocolOptions: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
