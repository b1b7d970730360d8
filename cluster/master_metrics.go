package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/socketcluster-go/socketcluster/cluster/metrics"
)

const (
	// DefaultMetricsScrapeTimeout bounds the master's read of one child's metrics during a /metrics request.
	DefaultMetricsScrapeTimeout = time.Second
	// MetricsPath is where the master serves the cluster's metrics.
	MetricsPath = "/metrics"
	// ReportMetrics is the report (Addr: 127.0.0.1:port) by which a balancer or store tells the master where it
	// serves metrics.Path; workers serve it on their own address.
	ReportMetrics = "metrics"
	// metricsReadHeaderTimeout bounds a scraper's request headers.
	metricsReadHeaderTimeout = 10 * time.Second
	// KindMaster is the kind label of the master's own process metrics.
	KindMaster = "master"
)

// ErrMetricsListen reports a --metricsListen value that cannot be used.
var ErrMetricsListen = errors.New("metrics listen address")

// MetricsListenAddr turns the option into host:port: a bare port binds 127.0.0.1, ":port" all interfaces.
func MetricsListenAddr(v string) (string, error) {
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || n > 65535 {
			return "", fmt.Errorf("%w: port %d", ErrMetricsListen, n)
		}
		return net.JoinHostPort("127.0.0.1", v), nil
	}
	if _, _, err := net.SplitHostPort(v); err != nil {
		return "", fmt.Errorf("%w: %q: %w", ErrMetricsListen, v, err)
	}
	return v, nil
}

// scrapeTarget is one child slot as the metrics see it. url is empty while the child is not ready or gone.
type scrapeTarget struct {
	kind string
	id   int
	pid  int
	url  string
}

func (t *scrapeTarget) process() string { return t.kind + "-" + strconv.Itoa(t.id) }

// masterMetrics gathers the children's metrics for the master's endpoint. Its hooks are called from the master's
// loop goroutine; gather from HTTP handlers.
type masterMetrics struct {
	key    string
	log    *slog.Logger
	client *http.Client

	mu      sync.Mutex // targets
	targets map[string]*scrapeTarget

	gatherMu sync.Mutex // one gather at a time (up is reset and refilled by each)
	warned   map[string]bool

	self         *prometheus.Registry // the master process' Go/process collectors
	own          *prometheus.Registry // supervision metrics
	respawns     *prometheus.CounterVec
	deaths       *prometheus.CounterVec
	up           *prometheus.GaugeVec
	scrapeErrors *prometheus.CounterVec
	mergeErrors  prometheus.Counter

	addr string // the endpoint's address once listening
}

func newMasterMetrics(key string, log *slog.Logger) *masterMetrics {
	x := &masterMetrics{
		key:     key,
		log:     log,
		client:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}},
		targets: map[string]*scrapeTarget{},
		warned:  map[string]bool{},
		self:    metrics.NewProcessRegistry(),
		own:     prometheus.NewRegistry(),
		respawns: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: "respawns_total",
			Help: "Child processes started again in their slot (after a death or for a rolling reboot), by kind."}, []string{"kind"}),
		deaths: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: "child_deaths_total",
			Help: "Child processes that exited without being asked to, by kind."}, []string{"kind"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metrics.Namespace, Name: "up",
			Help: "1 if the child's metrics were read by this scrape, 0 if it is down or did not answer."}, []string{"kind", "process"}),
		scrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: "scrape_errors_total",
			Help: "Children that were live but whose metrics could not be read, by child."}, []string{"kind", "process"}),
		mergeErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: "merge_conflicts_total",
			Help: "Metric families or metrics of children skipped because they conflicted with another child's."}),
	}
	for _, k := range []string{KindWorker, KindBalancer, KindStore} {
		x.respawns.WithLabelValues(k)
		x.deaths.WithLabelValues(k)
	}
	x.own.MustRegister(x.respawns, x.deaths, x.up, x.scrapeErrors, x.mergeErrors)
	return x
}

// launched records a new process in slot kind/id (not yet scrapable).
func (x *masterMetrics) launched(kind string, id, pid int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.targets[kind+"-"+strconv.Itoa(id)] = &scrapeTarget{kind: kind, id: id, pid: pid}
}

// reachable records where the process pid of kind/id serves metrics.Path.
func (x *masterMetrics) reachable(kind string, id, pid int, addr string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if t := x.targets[kind+"-"+strconv.Itoa(id)]; t != nil && t.pid == pid && addr != "" {
		t.url = "http://" + addr + metrics.Path
		x.log.Debug("metrics at", "kind", kind, "id", id, "addr", addr)
	}
}

// exited marks the process pid of kind/id gone; unexpected tells a death from a requested stop.
func (x *masterMetrics) exited(kind string, id, pid int, unexpected bool) {
	x.mu.Lock()
	if t := x.targets[kind+"-"+strconv.Itoa(id)]; t != nil && t.pid == pid {
		t.url = ""
	}
	x.mu.Unlock()
	if unexpected {
		x.deaths.WithLabelValues(kind).Inc()
	}
}

// onReport handles the reports that concern the metrics (ready of a worker, ReportMetrics of the others).
func (x *masterMetrics) onReport(p *proc, r Report) {
	switch {
	case r.Type == ReportMetrics && p.kind != KindWorker:
		x.reachable(p.kind, p.id, p.pid(), r.Addr)
	case r.Type == ReportReady && p.kind == KindWorker:
		x.reachable(p.kind, p.id, p.pid(), r.Addr)
	}
}

// gather scrapes every live child concurrently and merges their families with the master's own.
func (x *masterMetrics) gather(ctx context.Context) ([]*dto.MetricFamily, error) {
	x.gatherMu.Lock()
	defer x.gatherMu.Unlock()
	x.mu.Lock()
	targets := make([]scrapeTarget, 0, len(x.targets))
	for _, t := range x.targets {
		targets = append(targets, *t)
	}
	x.mu.Unlock()

	type result struct {
		fams []*dto.MetricFamily
		err  error
	}
	results := make([]result, len(targets))
	ctx, cancel := context.WithTimeout(ctx, DefaultMetricsScrapeTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i, t := range targets {
		if t.url == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fams, err := metrics.Fetch(ctx, x.client, t.url, x.key)
			results[i] = result{fams, err}
		}()
	}
	wg.Wait()

	x.up.Reset()
	srcs := make([]metrics.Source, 0, len(targets)+2)
	for i, t := range targets {
		up := 0.0
		switch {
		case t.url == "":
		case results[i].err != nil:
			x.scrapeErrors.WithLabelValues(t.kind, t.process()).Inc()
			x.log.Debug("child metrics not read", "child", t.kind+" "+strconv.Itoa(t.id), "err", results[i].err)
		default:
			up = 1
			srcs = append(srcs, metrics.Source{Name: t.process(),
				Labels: map[string]string{"kind": t.kind, "process": t.process()}, Families: results[i].fams})
		}
		x.up.WithLabelValues(t.kind, t.process()).Set(up)
	}
	self, err := x.self.Gather()
	if err != nil {
		x.log.Debug("master process metrics", "err", err)
	}
	srcs = append(srcs, metrics.Source{Name: KindMaster, Labels: map[string]string{"kind": KindMaster, "process": KindMaster}, Families: self})
	own, err := x.own.Gather()
	if err != nil {
		return nil, err
	}
	srcs = append(srcs, metrics.Source{Name: "master supervision", Families: own})
	fams, errs := metrics.Merge(srcs)
	if len(errs) > 0 {
		x.mergeErrors.Add(float64(len(errs))) // shows in the next scrape
	}
	for _, e := range errs {
		if msg := e.Error(); !x.warned[msg] && len(x.warned) < maxMergeWarnings {
			x.warned[msg] = true
			x.log.Warn("metric skipped", "err", e)
		}
	}
	return fams, nil
}

// maxMergeWarnings bounds the distinct merge conflicts logged (each once).
const maxMergeWarnings = 100

// serve listens on addr and serves MetricsPath until ctx is done.
func (x *masterMetrics) serve(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMetricsListen, err)
	}
	x.addr = l.Addr().String()
	mux := http.NewServeMux()
	mux.Handle(MetricsPath, promhttp.HandlerFor(prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		return x.gather(context.Background())
	}), promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(x.log.Handler(), slog.LevelWarn)}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: metricsReadHeaderTimeout}
	go func() { _ = srv.Serve(l) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	x.log.Info("metrics endpoint", "addr", x.addr, "path", MetricsPath)
	return nil
}

// MetricsAddr is the address of the master's metrics endpoint ("" when off); valid after Ready.
func (m *Master) MetricsAddr() string { return m.metrics.addr }
