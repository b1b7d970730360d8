// Command scbench is the load generator of issue 7: it speaks the SocketCluster 0.9 wire protocol (engine.io 1.3.1
// over WebSocket and binary long-polling, SC JSON envelopes) to a server it starts itself (--server-bin) or one
// already running on loopback (--url), and to a minimal gorilla/websocket baseline server (same JSON envelopes, no
// engine.io, no JavaScript) run in the same invocation, so that every figure is also a ratio to that floor.
//
// Scenarios: echo (closed-loop emit-with-ack), fanout (one publisher, S subscribers), sessfanout (socket.session.emit
// to one session whose sockets are on two workers; session.go), conns (a WebSocket
// connection storm then idle RSS), pollconns (the same with long-polling clients), pollecho (echo over polling),
// and, on request only, startup (exec to the first 200 of the compat Express app, against Node; startup.go).
// Server CPU and RSS are summed over the server's whole process tree from /proc. Only loopback targets are
// accepted; every phase is bounded in count and time.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Defaults: small, so that one run of every scenario takes well under a minute.
const (
	DefaultClients          = 50
	DefaultPollClients      = 20
	DefaultSubscribers      = 100
	DefaultRate             = 200
	DefaultConns            = 1000
	DefaultPollConns        = 200
	DefaultStormConcurrency = 64
	DefaultDuration         = 3 * time.Second
	DefaultWarmup           = 500 * time.Millisecond
	DefaultSettle           = 2 * time.Second
	DefaultScenarios        = "echo,fanout,sessfanout,conns,pollconns,pollecho"

	// Upper bounds of the flags (the bench must stop by itself and stay within one machine).
	maxClients  = 20000
	maxDuration = 5 * time.Minute
	maxRuns     = 9
	maxRate     = 100000
)

// ErrUsage reports bad flags.
var ErrUsage = errors.New("scbench: usage")

// config is everything a bench run needs.
type config struct {
	serverBin        string
	worker           string
	workers          int
	serverArgs       string
	url              string
	serverPID        int
	baseline         bool
	scenarios        []string
	clients          int
	pollClients      int
	subscribers      int
	sessionSockets   int
	rate             int
	conns            int
	pollConns        int
	stormConcurrency int
	duration         time.Duration
	warmup           time.Duration
	settle           time.Duration
	runs             int
	jsonOut          string
	serverLog        bool
	serverMetrics    bool
	startup          startupConfig // the startup scenario (startup.go)
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("scbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.serverBin, "server-bin", "", "socketcluster binary to start on 127.0.0.1 (ephemeral port)")
	fs.StringVar(&c.worker, "worker", "", "worker controller for --server-bin (needs an 'echo' event doing res.end(data))")
	fs.IntVar(&c.workers, "workers", 1, "worker processes of the started server")
	fs.StringVar(&c.serverArgs, "server-args", "", "more flags for the started server, space separated")
	fs.StringVar(&c.url, "url", "", "target a running server instead, e.g. ws://127.0.0.1:8000/socketcluster/ (loopback only)")
	fs.IntVar(&c.serverPID, "server-pid", 0, "with --url: the server's master pid, for CPU and RSS figures")
	fs.BoolVar(&c.baseline, "baseline", true, "also measure the built-in gorilla/websocket baseline and report ratios")
	scen := fs.String("scenarios", DefaultScenarios, "comma list of echo, fanout, sessfanout, conns, pollconns, pollecho, startup")
	fs.IntVar(&c.clients, "clients", DefaultClients, "echo: WebSocket clients in closed loop")
	fs.IntVar(&c.pollClients, "poll-clients", DefaultPollClients, "pollecho: polling clients in closed loop")
	fs.IntVar(&c.subscribers, "subscribers", DefaultSubscribers, "fanout: subscribers of the channel")
	fs.IntVar(&c.sessionSockets, "session-sockets", DefaultSessionSockets, "sessfanout: sockets of the session (spread over at least 2 workers)")
	fs.IntVar(&c.rate, "rate", DefaultRate, "fanout and sessfanout: publishes (session emits) per second")
	fs.IntVar(&c.conns, "conns", DefaultConns, "conns: WebSocket connections in the storm")
	fs.IntVar(&c.pollConns, "poll-conns", DefaultPollConns, "pollconns: polling clients in the storm")
	fs.IntVar(&c.stormConcurrency, "storm-concurrency", DefaultStormConcurrency, "handshakes in flight during a storm")
	fs.DurationVar(&c.duration, "duration", DefaultDuration, "measured time of echo, pollecho and fanout")
	fs.DurationVar(&c.warmup, "warmup", DefaultWarmup, "unmeasured time before the echo measurement")
	fs.DurationVar(&c.settle, "settle", DefaultSettle, "idle time after a storm before RSS is read")
	fs.IntVar(&c.runs, "runs", 1, "repeat every scenario; figures are the medians")
	fs.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file ('-' for stdout)")
	fs.BoolVar(&c.serverLog, "server-log", false, "copy the servers' output to stderr")
	fs.BoolVar(&c.serverMetrics, "server-metrics", true, "start the server with --metricsListen and add its own figures (srv_*) to each scenario")
	addStartupFlags(fs, &c.startup)
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	for _, s := range strings.Split(*scen, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(strings.Split(DefaultScenarios, ","), s) && s != "startup" {
			return c, fmt.Errorf("%w: unknown scenario %q", ErrUsage, s)
		}
		c.scenarios = append(c.scenarios, s)
	}
	return c, c.validate()
}

func (c *config) validate() error {
	switch {
	case (c.serverBin == "") == (c.url == ""):
		return fmt.Errorf("%w: give exactly one of --server-bin and --url", ErrUsage)
	case c.serverBin != "" && c.worker == "" && !slices.Equal(c.scenarios, []string{"startup"}):
		return fmt.Errorf("%w: --server-bin needs --worker", ErrUsage)
	case c.workers < 1 || c.workers > 64:
		return fmt.Errorf("%w: --workers must be 1..64", ErrUsage)
	case len(c.scenarios) == 0:
		return fmt.Errorf("%w: no scenario", ErrUsage)
	case c.runs < 1 || c.runs > maxRuns:
		return fmt.Errorf("%w: --runs must be 1..%d", ErrUsage, maxRuns)
	case c.rate < 1 || c.rate > maxRate:
		return fmt.Errorf("%w: --rate must be 1..%d", ErrUsage, maxRate)
	case c.duration <= 0 || c.duration > maxDuration || c.warmup < 0 || c.warmup > maxDuration ||
		c.settle < 0 || c.settle > maxDuration:
		return fmt.Errorf("%w: durations must be within (0, %v]", ErrUsage, maxDuration)
	case c.stormConcurrency < 1:
		return fmt.Errorf("%w: --storm-concurrency must be positive", ErrUsage)
	case slices.Contains(c.scenarios, "startup") && c.serverBin == "":
		return fmt.Errorf("%w: the startup scenario needs --server-bin", ErrUsage)
	}
	if err := c.startup.validate(); err != nil {
		return err
	}
	for _, n := range []int{c.clients, c.pollClients, c.subscribers, c.sessionSockets, c.conns, c.pollConns} {
		if n < 1 || n > maxClients {
			return fmt.Errorf("%w: client counts must be 1..%d", ErrUsage, maxClients)
		}
	}
	return nil
}

func main() {
	if os.Getenv(baselineEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if err := serveBaseline(ctx, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs scbench with args and returns the exit code.
func cli(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	raiseFileLimit()
	results, err := run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	writeTable(stdout, results)
	if cfg.jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		b = append(b, '\n')
		if cfg.jsonOut == "-" {
			_, _ = stdout.Write(b)
		} else if err := os.WriteFile(cfg.jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	return 0
}

// raiseFileLimit lifts the soft open-file limit to the hard one (children inherit it): storms need a descriptor
// per connection on both sides.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// baselineScenario is the baseline scenario a server scenario is compared with (the baseline has no polling:
// polling figures are compared with the WebSocket floor, which is what the polling target asks).
var baselineScenario = map[string]string{
	"echo-ws": "echo-ws", "echo-polling": "echo-ws", "fanout": "fanout", "session-fanout": "session-fanout",
	"conns-ws": "conns-ws", "conns-polling": "conns-ws",
}

// run measures every selected scenario cfg.runs times on fresh servers and returns the medians, server results
// carrying ratios to the baseline.
func run(ctx context.Context, cfg config, progress io.Writer) ([]result, error) {
	var all [][]result
	for i := 0; i < cfg.runs; i++ {
		fmt.Fprintf(progress, "run %d/%d\n", i+1, cfg.runs)
		var rs []result
		for _, s := range cfg.scenarios {
			for _, base := range []bool{true, false} {
				if s == "startup" {
					break // runStartup repeats its own starts
				}
				if base && (!cfg.baseline || s == "pollconns" || s == "pollecho") {
					continue
				}
				r, err := runOne(ctx, cfg, s, base, progress)
				if err != nil {
					return nil, err
				}
				rs = append(rs, r)
			}
		}
		all = append(all, rs)
	}
	out := medians(all)
	for i := range out {
		if out[i].Target != "server" {
			continue
		}
		bs := baselineScenario[out[i].Scenario]
		for _, b := range out {
			if b.Target != "baseline" || b.Scenario != bs {
				continue
			}
			out[i].Baseline = bs
			for j, m := range out[i].Metrics {
				if v, ok := b.get(m.Name); ok && v != 0 {
					out[i].Metrics[j].Ratio = m.Value / v
				}
			}
		}
	}
	if slices.Contains(cfg.scenarios, "startup") {
		rs, err := runStartup(ctx, cfg, progress)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// runOne starts a fresh target and runs one scenario against it.
func runOne(ctx context.Context, cfg config, scenario string, base bool, progress io.Writer) (result, error) {
	var logw io.Writer
	if cfg.serverLog {
		logw = progress
	}
	var (
		t   *target
		err error
	)
	switch {
	case base:
		t, err = startBaseline(ctx, logw)
	case cfg.url != "":
		t, err = urlTarget(cfg.url, cfg.serverPID)
	default:
		var extra []string
		if cfg.serverArgs != "" {
			extra = strings.Fields(cfg.serverArgs)
		}
		sc := serverConfig{bin: cfg.serverBin, worker: cfg.worker, workers: cfg.workers, extra: extra, metrics: cfg.serverMetrics}
		if scenario == "sessfanout" {
			if sc.workerPorts, err = freeLoopbackPorts(max(cfg.workers, sessionWorkers)); err != nil {
				return result{}, fmt.Errorf("%w: worker ports: %v", ErrServerStart, err)
			}
		}
		t, err = startServer(ctx, sc, logw)
	}
	if err != nil {
		return result{}, err
	}
	defer t.stop()
	n := cfg.clients
	if scenario == "pollecho" || scenario == "pollconns" {
		n = cfg.pollClients
		if scenario == "pollconns" {
			n = cfg.pollConns
		}
	}
	d := &dialer{wsURL: t.wsURL(), pollURL: t.pollURL(), engineio: !base, hc: newHTTPClient(n)}
	defer d.hc.CloseIdleConnections()
	if err := waitDialable(ctx, d); err != nil {
		return result{}, fmt.Errorf("%s: %w", t.name, err)
	}
	fmt.Fprintf(progress, "%s on %s (%s)\n", scenario, t.name, t.host)
	r, err := runScenario(ctx, cfg, scenario, t, d, progress)
	if err == nil {
		addServerMetrics(ctx, t, &r, progress)
	}
	return r, err
}

// runScenario runs one scenario against a started target.
func runScenario(ctx context.Context, cfg config, scenario string, t *target, d *dialer, progress io.Writer) (result, error) {
	switch scenario {
	case "echo":
		return runEcho(ctx, t, d, false, cfg.clients, cfg.warmup, cfg.duration, progress)
	case "pollecho":
		return runEcho(ctx, t, d, true, cfg.pollClients, cfg.warmup, cfg.duration, progress)
	case "fanout":
		return runFanout(ctx, t, d, cfg.subscribers, cfg.rate, cfg.duration, progress)
	case "sessfanout":
		if t.name == "baseline" {
			// the baseline has no sessions: its floor is a channel fan-out to as many sockets
			r, err := runFanout(ctx, t, d, cfg.sessionSockets, cfg.rate, cfg.duration, progress)
			r.Scenario = "session-fanout"
			return r, err
		}
		return runSessionFanout(ctx, t, cfg.sessionSockets, cfg.rate, cfg.duration, progress)
	case "conns":
		return runConns(ctx, t, d, false, cfg.conns, cfg.stormConcurrency, cfg.settle, progress)
	case "pollconns":
		return runConns(ctx, t, d, true, cfg.pollConns, cfg.stormConcurrency, cfg.settle, progress)
	}
	return result{}, fmt.Errorf("%w: unknown scenario %q", ErrUsage, scenario)
}

// waitDialable retries one WebSocket handshake until it succeeds (a balancer may refuse connections for a moment
// after the banner while it learns its workers), bounded by connectWait.
func waitDialable(ctx context.Context, d *dialer) error {
	deadline := time.Now().Add(connectWait)
	for {
		c, err := d.dial(ctx, false, func(*inbound) {})
		if err == nil {
			closeAll([]client{c})
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// medians folds repeated runs (same scenario order in each) into one result per scenario and target, every
// metric the median of its runs.
func medians(runs [][]result) []result {
	if len(runs) == 0 {
		return nil
	}
	out := make([]result, len(runs[0]))
	for i, r := range runs[0] {
		out[i] = result{Scenario: r.Scenario, Target: r.Target, Params: r.Params}
		if len(runs) > 1 {
			out[i].Params["runs"] = fmt.Sprint(len(runs))
		}
		for _, m := range r.Metrics {
			var vs []float64
			for _, run := range runs {
				if i < len(run) {
					if v, ok := run[i].get(m.Name); ok {
						vs = append(vs, v)
					}
				}
			}
			slices.Sort(vs)
			out[i].add(m.Name, m.Unit, vs[len(vs)/2])
		}
	}
	return out
}

// writeTable prints the results, one line per metric.
func writeTable(w io.Writer, rs []result) {
	fmt.Fprintf(w, "%-14s %-9s %-24s %14s %-7s %9s\n", "scenario", "target", "metric", "value", "unit", "x base")
	for _, r := range rs {
		for _, m := range r.Metrics {
			ratio := ""
			if m.Ratio != 0 {
				ratio = fmt.Sprintf("%.2f", m.Ratio)
			}
			fmt.Fprintf(w, "%-14s %-9s %-24s %14.3f %-7s %9s\n", r.Scenario, r.Target, m.Name, m.Value, m.Unit, ratio)
		}
	}
}
