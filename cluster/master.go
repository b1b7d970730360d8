package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Defaults of the master's supervision.
const (
	// DefaultShutdownGrace bounds a child's drain after SIGTERM; the master
	// kills what is left DefaultKillMargin later.
	DefaultShutdownGrace = 10 * time.Second
	DefaultKillMargin    = 2 * time.Second
	// DefaultStartTimeout bounds a child's start (run(worker) included)
	// until it reports ready during the cluster's boot.
	DefaultStartTimeout = 60 * time.Second
	// CrashLoopWindow: a child that dies sooner than this after its start
	// is restarted after a backoff doubling from CrashBackoffMin up to
	// CrashBackoffMax; one that ran longer is restarted at once.
	CrashLoopWindow = 2 * time.Second
	CrashBackoffMin = 100 * time.Millisecond
	CrashBackoffMax = 5 * time.Second
	// eventQueue bounds the events waiting for the master's loop.
	eventQueue = 256
)

// Master event types (MasterEvent.Type), the seed's names.
const (
	EventReady  = "ready"
	EventFail   = "fail"
	EventNotice = "notice"
	EventWorker = "worker"
)

// ErrBoot reports a cluster that could not start.
var ErrBoot = errors.New("cluster did not start")

// MasterEvent is reported to MasterConfig.OnEvent.
type MasterEvent struct {
	Type    string // EventReady, EventFail, EventNotice, EventWorker
	Kind    string // process kind the event is about ("" for the master)
	ID      int
	PID     int
	Message string
}

// MasterConfig configures the master. The zero value of each field means
// its default.
type MasterConfig struct {
	// Options are the cluster options. Port is the public port (0: a free
	// port, see Master.Port). An empty DataKey
	// is generated (32 random bytes, hex).
	Options Options
	// WorkerPorts has one entry per worker: the loopback port it listens
	// on, 0 for an ephemeral port. Empty means one worker per CPU.
	WorkerPorts []int
	// Balancers is the number of balancer processes sharing the public
	// port; zero means 1.
	Balancers int
	// Stores is the number of store processes (session data, global data,
	// channels across workers); zero means 1 unless StoreURL is set.
	Stores int
	// StoreURL (redis://HOST:PORT/DB) puts sessions, global data and
	// channels in Redis instead of store processes.
	StoreURL string
	// Listen is the host the balancers bind ("" = all interfaces).
	Listen   string
	Balancer BalancerSpec
	// Executable is re-executed with the kind as sub-command; default
	// os.Executable().
	Executable string
	Logger     *slog.Logger
	// Output receives the children's output lines (default os.Stderr).
	Output io.Writer
	// Grace bounds each child's drain on stop; default DefaultShutdownGrace.
	Grace time.Duration
	// StartTimeout bounds the boot; default DefaultStartTimeout.
	StartTimeout time.Duration
	// RebootWorkerOnCrash respawns workers that die (balancers are always
	// respawned). Zero value: dead workers stay dead.
	RebootWorkerOnCrash bool
	// OnEvent, if set, is called from the master's loop goroutine for
	// every MasterEvent; it must not block.
	OnEvent func(MasterEvent)
	// MetricsListen (host:port, see MetricsListenAddr) serves MetricsPath:
	// every process' metrics merged. "" means off.
	MetricsListen string
}

// slot is one worker or balancer identity and its current process.
type slot struct {
	kind    string
	id      int
	listen  string
	cur     *proc
	backoff time.Duration
	pending bool // a respawn is scheduled
}

// Master starts and supervises the cluster's processes.
type Master struct {
	cfg  MasterConfig
	opts Options
	log  *slog.Logger
	exe  string

	outMu sync.Mutex
	out   io.Writer

	events   chan procEvent
	loopDone chan struct{}
	rebootCh chan struct{}
	ready    chan struct{}
	procs    sync.WaitGroup
	start    func(*exec.Cmd) error

	// owned by the loop goroutine
	workers   []*slot
	balancers []*slot
	stores    []*slot
	storeDir  string // holds the stores' UNIX sockets
	live      int    // processes started and not yet exited
	table     map[int]string
	booted    bool
	stopping  bool
	reboot    []int // workers still to reboot
	rebooting int   // worker being rebooted, -1 for none
	// handoffDir holds the workers' handoff sockets ("" for none).
	handoffDir string

	port     int      // public port, set before ready is closed
	listener *os.File // the public listening socket, inherited by balancers

	metrics *masterMetrics
}

// NewMaster validates cfg. Run starts the processes.
func NewMaster(cfg MasterConfig) (*Master, error) {
	opts := cfg.Options
	if opts.DataKey == "" {
		var key [32]byte
		if _, err := rand.Read(key[:]); err != nil {
			return nil, err
		}
		opts.DataKey = hex.EncodeToString(key[:])
	}
	if opts.Port < 0 {
		return nil, fmt.Errorf("%w: port %d", ErrBadOption, opts.Port)
	}
	port := opts.Port
	if _, err := opts.withDefaults(); err != nil {
		return nil, err
	}
	opts.Port = port
	if len(cfg.WorkerPorts) == 0 {
		cfg.WorkerPorts = make([]int, runtime.NumCPU())
	}
	if cfg.Balancers <= 0 {
		cfg.Balancers = 1
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultShutdownGrace
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	exe := cfg.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find own executable: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	out := cfg.Output
	if out == nil {
		out = os.Stderr
	}
	m := &Master{
		cfg:       cfg,
		opts:      opts,
		log:       log,
		exe:       exe,
		out:       out,
		events:    make(chan procEvent, eventQueue),
		loopDone:  make(chan struct{}),
		rebootCh:  make(chan struct{}, 1),
		ready:     make(chan struct{}),
		table:     make(map[int]string),
		rebooting: -1,
	}
	m.metrics = newMasterMetrics(opts.DataKey, log)
	if cfg.MetricsListen != "" {
		addr, err := MetricsListenAddr(cfg.MetricsListen)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadOption, err)
		}
		m.cfg.MetricsListen = addr
	}
	m.handoffDir = newHandoffDir(log)
	for i, p := range cfg.WorkerPorts {
		m.workers = append(m.workers, &slot{kind: KindWorker, id: i, listen: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))})
	}
	for i := 0; i < cfg.Balancers; i++ {
		m.balancers = append(m.balancers, &slot{kind: KindBalancer, id: i})
	}
	if cfg.StoreURL == "" {
		if cfg.Stores <= 0 {
			cfg.Stores = 1
			m.cfg.Stores = 1
		}
		dir, err := os.MkdirTemp("", "sc-stores-")
		if err != nil {
			return nil, fmt.Errorf("store socket directory: %w", err)
		}
		m.storeDir = dir
		for i := 0; i < cfg.Stores; i++ {
			m.stores = append(m.stores, &slot{kind: KindStore, id: i, listen: filepath.Join(dir, "store-"+strconv.Itoa(i)+".sock")})
		}
	}
	return m, nil
}

// Ready is closed once every worker and balancer reported ready.
func (m *Master) Ready() <-chan struct{} { return m.ready }

// Port is the public port; valid after Ready.
func (m *Master) Port() int { return m.port }

// WorkerCount and BalancerCount are the configured process counts.
func (m *Master) WorkerCount() int   { return len(m.workers) }
func (m *Master) BalancerCount() int { return len(m.balancers) }

// StoreCount is the number of store processes (0 with a StoreURL).
func (m *Master) StoreCount() int { return len(m.stores) }

// Options returns the cluster options as the workers get them (DataKey
// included).
func (m *Master) Options() Options { return m.opts }

// KillWorkers asks for a rolling reboot: workers are stopped one at a time
// and the next one only after the previous one's replacement is ready.
// Any goroutine; a request during a reboot in progress is ignored.
func (m *Master) KillWorkers() {
	select {
	case m.rebootCh <- struct{}{}:
	default:
	}
}

// Run boots the cluster and supervises it until ctx is done, then stops
// every child (SIGTERM, SIGKILL after the grace period) and returns. It
// returns ErrBoot (wrapped) when the cluster could not start.
func (m *Master) Run(ctx context.Context) error {
	stopSpawner := m.startSpawner()
	defer stopSpawner()
	defer close(m.loopDone)
	var err error
	if m.cfg.MetricsListen != "" {
		if err = m.metrics.serve(ctx, m.cfg.MetricsListen); err != nil {
			err = fmt.Errorf("%w: %w", ErrBoot, err)
		}
	}
	if err == nil {
		err = m.boot(ctx)
	}
	if err == nil && ctx.Err() == nil {
		m.supervise(ctx)
	}
	m.stopAll()
	m.procs.Wait()
	if m.listener != nil {
		_ = m.listener.Close()
	}
	if m.storeDir != "" {
		_ = os.RemoveAll(m.storeDir)
	}
	removeHandoffDir(m.handoffDir)
	return err
}

func (m *Master) emit(e MasterEvent) {
	if m.cfg.OnEvent != nil {
		m.cfg.OnEvent(e)
	}
}

func (m *Master) childConfig(s *slot) ChildConfig {
	cfg := ChildConfig{
		Kind:        s.kind,
		ID:          s.id,
		Listen:      s.listen,
		Options:     m.opts,
		Balancer:    m.cfg.Balancer,
		GraceMillis: m.cfg.Grace.Milliseconds(),
	}
	cfg.Options.WorkerID = s.id
	cfg.Options.SourcePort = m.opts.Port
	if s.kind == KindBalancer {
		cfg.Listen = ""
		cfg.Workers = m.table
	}
	if s.kind == KindWorker {
		cfg.StoreURL = m.cfg.StoreURL
		cfg.Handoff = m.handoffPath(s.id)
		for _, st := range m.stores {
			cfg.Stores = append(cfg.Stores, "unix:"+st.listen)
		}
	}
	return cfg
}

func (m *Master) launch(s *slot) error {
	s.pending = false
	var extra *os.File
	if s.kind == KindBalancer {
		extra = m.listener
	}
	p, err := m.spawn(m.childConfig(s), extra)
	if err != nil {
		return err
	}
	s.cur = p
	m.live++
	m.metrics.launched(s.kind, s.id, p.pid())
	m.log.Debug("started", "child", p.name(), "pid", p.pid())
	return nil
}

// boot opens the public port, starts the balancers and the workers and
// waits until all are ready.
func (m *Master) boot(ctx context.Context) error {
	l, err := net.Listen("tcp", net.JoinHostPort(m.cfg.Listen, strconv.Itoa(m.opts.Port)))
	if err != nil {
		return fmt.Errorf("%w: listen on port %d: %w", ErrBoot, m.opts.Port, err)
	}
	tl := l.(*net.TCPListener)
	m.listener, err = tl.File()
	_ = l.Close() // the duplicate in m.listener keeps the socket open
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBoot, err)
	}
	m.opts.Port = tl.Addr().(*net.TCPAddr).Port
	deadline := time.NewTimer(m.cfg.StartTimeout)
	defer deadline.Stop()
	all := append(append(append([]*slot(nil), m.stores...), m.balancers...), m.workers...)
	for _, s := range all {
		if err := m.launch(s); err != nil {
			return fmt.Errorf("%w: %w", ErrBoot, err)
		}
	}
	for {
		ready := true
		for _, s := range all {
			ready = ready && s.cur != nil && s.cur.ready
		}
		if ready {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-deadline.C:
			return fmt.Errorf("%w: not ready within %v", ErrBoot, m.cfg.StartTimeout)
		case e := <-m.events:
			if e.typ == evExit {
				m.live--
				e.p.cur(m).cur = nil
				return fmt.Errorf("%w: %s exited before the cluster was ready (%s)", ErrBoot, e.p.name(), exitText(e.err))
			}
			m.handle(e)
		}
	}
	m.booted = true
	m.port = m.opts.Port
	for _, s := range m.workers {
		m.table[s.id] = s.cur.entry()
	}
	m.sendTable()
	m.leaderStart()
	for _, s := range m.workers {
		m.emit(MasterEvent{Type: EventWorker, Kind: KindWorker, ID: s.id, PID: s.cur.pid()})
	}
	close(m.ready)
	m.log.Info("cluster ready", "port", m.port, "workers", len(m.workers), "balancers", len(m.balancers))
	m.emit(MasterEvent{Type: EventReady, PID: os.Getpid()})
	return nil
}

// cur finds the slot of p.
func (p *proc) cur(m *Master) *slot {
	switch p.kind {
	case KindWorker:
		return m.workers[p.id]
	case KindStore:
		return m.stores[p.id]
	}
	return m.balancers[p.id]
}

// supervise is the loop after boot: reports, exits, respawns, reboots.
func (m *Master) supervise(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.rebootCh:
			m.startReboot()
		case e := <-m.events:
			m.handle(e)
		}
	}
}

func (m *Master) handle(e procEvent) {
	switch e.typ {
	case evReport:
		m.handleReport(e.p, e.report)
	case evExit:
		m.handleExit(e.p, e.err)
	case evSpawn:
		s := m.slotOf(e.kind, e.id)
		if s == nil || m.stopping || s.cur != nil {
			return
		}
		if err := m.launch(s); err == nil {
			m.metrics.respawns.WithLabelValues(s.kind).Inc()
		} else {
			m.log.Error("respawn failed", "child", e.kind+" "+strconv.Itoa(e.id), "err", err)
			m.scheduleRespawn(s, true)
		}
	}
}

func (m *Master) slotOf(kind string, id int) *slot {
	list := m.workers
	switch kind {
	case KindBalancer:
		list = m.balancers
	case KindStore:
		list = m.stores
	}
	if id < 0 || id >= len(list) {
		return nil
	}
	return list[id]
}

func (m *Master) handleReport(p *proc, r Report) {
	m.metrics.onReport(p, r)
	switch r.Type {
	case ReportReady:
		s := p.cur(m)
		if s.cur != p {
			return
		}
		p.ready = true
		p.addr = r.Addr
		p.handoff = r.Handoff
		m.log.Debug("ready", "child", p.name(), "addr", r.Addr, "pid", p.pid())
		if !m.booted {
			return
		}
		switch p.kind {
		case KindWorker:
			m.table[p.id] = p.entry()
			m.sendTable()
			if p.id == 0 {
				m.leaderStart()
			}
			m.log.Info("worker ready", "id", p.id, "pid", p.pid())
			m.emit(MasterEvent{Type: EventWorker, Kind: KindWorker, ID: p.id, PID: p.pid()})
			if p.id == m.rebooting {
				m.rebootNext()
			}
		case KindBalancer:
			_ = p.send(Control{Type: ControlWorkers, Workers: m.table})
			m.log.Info("balancer ready", "id", p.id, "pid", p.pid())
		case KindStore:
			m.log.Info("store ready", "id", p.id, "pid", p.pid())
		}
	case ReportNotice:
		m.log.Info(r.Message, "child", p.name())
		m.emit(MasterEvent{Type: EventNotice, Kind: p.kind, ID: p.id, PID: p.pid(), Message: r.Message})
	case ReportError:
		m.log.Error(r.Message, "child", p.name())
		m.emit(MasterEvent{Type: EventFail, Kind: p.kind, ID: p.id, PID: p.pid(), Message: r.Message})
	}
}

func (m *Master) handleExit(p *proc, err error) {
	m.live--
	if p.killTimer != nil {
		p.killTimer.Stop()
	}
	s := p.cur(m)
	if s.cur == p {
		s.cur = nil
	}
	m.metrics.exited(p.kind, p.id, p.pid(), !m.stopping && !p.stopping && !p.rebooting)
	if p.kind == KindWorker && m.table[p.id] == p.entry() && p.addr != "" {
		delete(m.table, p.id)
		m.sendTable()
	}
	if m.stopping || p.stopping {
		m.log.Debug("stopped", "child", p.name(), "status", exitText(err))
		return
	}
	if p.rebooting {
		m.log.Info("stopped for reboot", "child", p.name(), "status", exitText(err))
		s.backoff = 0
		m.scheduleRespawn(s, false)
		return
	}
	msg := fmt.Sprintf("%s %d died - %s", titleKind(p.kind), p.id, exitText(err))
	m.log.Error(msg, "pid", p.pid())
	m.emit(MasterEvent{Type: EventFail, Kind: p.kind, ID: p.id, PID: p.pid(), Message: msg})
	if p.kind == KindWorker && !m.cfg.RebootWorkerOnCrash {
		return
	}
	m.scheduleRespawn(s, time.Since(p.started) < CrashLoopWindow)
}

func titleKind(k string) string {
	if k == "" {
		return k
	}
	return string(k[0]-'a'+'A') + k[1:]
}

// scheduleRespawn restarts s at once, or after a growing backoff when it
// is crash-looping.
func (m *Master) scheduleRespawn(s *slot, crashLoop bool) {
	if !crashLoop {
		s.backoff = 0
	} else {
		s.backoff = min(max(2*s.backoff, CrashBackoffMin), CrashBackoffMax)
	}
	if s.pending {
		return
	}
	s.pending = true
	if s.backoff == 0 {
		m.handle(procEvent{typ: evSpawn, kind: s.kind, id: s.id})
		return
	}
	m.log.Warn("crash loop: restart delayed", "child", s.kind+" "+strconv.Itoa(s.id), "delay", s.backoff)
	kind, id := s.kind, s.id
	time.AfterFunc(s.backoff, func() { m.post(procEvent{typ: evSpawn, kind: kind, id: id}) })
}

// sendTable gives the live worker table to every ready balancer.
func (m *Master) sendTable() {
	if !m.booted {
		return
	}
	for _, s := range m.balancers {
		if s.cur != nil && s.cur.ready {
			if err := s.cur.send(Control{Type: ControlWorkers, Workers: m.table}); err != nil {
				m.log.Debug("table not sent", "child", s.cur.name(), "err", err)
			}
		}
	}
}

func (m *Master) leaderStart() {
	if s := m.workers[0]; s.cur != nil && s.cur.ready {
		_ = s.cur.send(Control{Type: ControlEmit, Event: "leaderstart"})
	}
}

// startReboot begins a rolling reboot of all workers.
func (m *Master) startReboot() {
	if m.rebooting >= 0 || m.stopping {
		m.log.Info("rolling reboot already in progress")
		return
	}
	m.log.Info("rolling reboot of the workers")
	m.reboot = m.reboot[:0]
	for i := range m.workers {
		m.reboot = append(m.reboot, i)
	}
	m.rebootNext()
}

// rebootNext stops the next live worker of the reboot; its replacement's
// ready report continues the reboot.
func (m *Master) rebootNext() {
	m.rebooting = -1
	for len(m.reboot) > 0 {
		id := m.reboot[0]
		m.reboot = m.reboot[1:]
		p := m.workers[id].cur
		if p == nil || !p.ready {
			continue
		}
		p.rebooting = true
		delete(m.table, id)
		m.sendTable()
		m.stop(p)
		m.rebooting = id
		return
	}
	m.log.Info("rolling reboot done")
}

// stop sends SIGTERM and arms a SIGKILL after the grace period.
func (m *Master) stop(p *proc) {
	p.signal(syscall.SIGTERM)
	p.killTimer = time.AfterFunc(m.cfg.Grace+DefaultKillMargin, func() {
		m.log.Warn("did not stop in time: killed", "child", p.name(), "pid", p.pid())
		p.signal(syscall.SIGKILL)
	})
}

// stopAll stops every child and waits for their exits.
func (m *Master) stopAll() {
	m.stopping = true
	for _, list := range [][]*slot{m.balancers, m.workers, m.stores} {
		for _, s := range list {
			if s.cur != nil {
				s.cur.stopping = true
				m.stop(s.cur)
			}
		}
	}
	for m.live > 0 {
		e := <-m.events
		if e.typ == evExit {
			m.handleExit(e.p, e.err)
		}
	}
}
