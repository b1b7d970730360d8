// Package gctune gives a busy process a minimum heap goal and an idle one its memory back.
//
// A worker allocates per message (engine.io frames, SC envelopes, goja call stacks) while its live heap stays
// a few MB, so with GOGC=100 it collects tens of times per second and the collector's fixed costs (stack scans,
// mark assists) take a fifth of its CPU. While the process allocates fast (busy), Run raises the collector's
// percentage so that the next collection happens at a floor at the earliest; for a large live heap (many
// connections) the base percentage (GOGC) applies unchanged. When allocation stops (idle), the base percentage
// is restored and the heap is collected and returned to the OS once, so an idle process does not keep the
// floor's extra memory.
//
// The floor has two steps. A process that just became busy gets Config.MinHeap (32 MB). Once it has been busy
// for steadyReadings readings, at least one collection happened in them and its live heap did not grow by more
// than a growthDivisor-th, it is steady and gets Config.SteadyHeap (64 MB). The step exists for idle memory:
// the collector does not move objects, so objects that survive a collection at a large heap (a storm of new
// connections) stay scattered over more spans, which the idle release cannot return; a 64 MB floor from the
// first reading left 6 KB more RSS per idle WebSocket connection after a 1000-connection storm, the stepped
// one none (docs/benchmarks.md "GC tuning (session 2)").
//
// The heap this allows while busy: the next collection's goal is max(floor, live*(1+GOGC/100)) for the live
// heap of the last reading, with the percentage at most maxPercent (so at most 11 times the live heap). Both
// floors are capped to 1/memFraction of the memory the process may use (cgroup v2 memory.max, else MemTotal),
// so a worker in a 1 GB container keeps 32 MB at most. A user who sets GOGC or GOMEMLIMIT in the environment
// has taken charge of the collector: Run then changes nothing.
package gctune

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"time"
)

const (
	// DefaultMinHeap is the heap goal below which a process that just became busy does not collect.
	DefaultMinHeap = 32 << 20
	// DefaultSteadyHeap is the heap goal below which a steadily busy process does not collect.
	DefaultSteadyHeap = 64 << 20
	// DefaultBusyRate is the allocation rate, in bytes per second, at which an idle process becomes busy.
	DefaultBusyRate = 32 << 20
	// DefaultInterval is how often the allocation rate and the live heap are looked at.
	DefaultInterval = 250 * time.Millisecond
	// maxPercent bounds the raised percentage.
	maxPercent = 1000
	// idleReadings is how many readings in a row of slow allocation make a busy process idle.
	idleReadings = 2
	// idleDivisor: a busy process stays busy until its allocation rate falls below BusyRate/idleDivisor.
	idleDivisor = 8
	// changeDivisor: a busy percentage is only changed by more than current/changeDivisor (setting it costs).
	changeDivisor = 10
	// steadyReadings is how many busy readings without growth of the live heap make a process steady. At the
	// default interval that is 1 s, the time DefaultBusyRate takes to allocate DefaultMinHeap.
	steadyReadings = 4
	// growthDivisor: the live heap grows when it exceeds the steady run's peak by more than peak/growthDivisor.
	growthDivisor = 4
	// memFraction caps the floors to this fraction of the memory the process may use.
	memFraction = 32

	liveHeapMetric = "/gc/heap/live:bytes"
	allocsMetric   = "/gc/heap/allocs:bytes"
	cyclesMetric   = "/gc/cycles/total:gc-cycles"
	cgroupMaxPath  = "/sys/fs/cgroup/memory.max"
	meminfoPath    = "/proc/meminfo"
)

// Config is what the controller decides with.
type Config struct {
	// MinHeap is the floor of a process that just became busy: no collection below this heap goal.
	MinHeap uint64
	// SteadyHeap is the floor of a steadily busy process; below MinHeap means MinHeap.
	SteadyHeap uint64
	// BusyRate is the allocation rate, in bytes per second, at which an idle process becomes busy.
	BusyRate uint64
	// SteadyReadings is how many busy readings without growth of the live heap make a process steady; 0 means
	// steadyReadings.
	SteadyReadings int
	// Base is the percentage restored when idle (GOGC as found); < 0 means the collector is off.
	Base int
}

// DefaultConfig returns the default floors capped to 1/memFraction of memLimit (0: unknown, no cap), and base.
func DefaultConfig(memLimit uint64, base int) Config {
	cfg := Config{MinHeap: DefaultMinHeap, SteadyHeap: DefaultSteadyHeap, BusyRate: DefaultBusyRate, Base: base}
	if c := memLimit / memFraction; memLimit > 0 {
		cfg.MinHeap, cfg.SteadyHeap = min(cfg.MinHeap, c), min(cfg.SteadyHeap, c)
	}
	return cfg
}

// Reading is one look at the runtime: when, the bytes allocated since the process started, the live heap
// after the last collection and the number of collections so far.
type Reading struct {
	At        time.Time
	Allocated uint64
	Live      uint64
	Cycles    uint64
}

// Decision is what to do after a reading: set Percent when Set, and return the heap to the OS when Release.
type Decision struct {
	Set     bool
	Percent int
	Release bool
}

// Controller turns readings into decisions. It is not safe for concurrent use.
type Controller struct {
	cfg     Config
	last    Reading
	started bool
	busy    bool
	slow    int    // slow readings in a row while busy
	current int    // the percentage in force
	steady  int    // busy readings in a row without growth of the live heap
	peak    uint64 // the largest live heap of the steady run
	cycles  uint64 // collections when the steady run began
}

// NewController returns a controller in the idle state with the base percentage in force.
func NewController(cfg Config) *Controller {
	return &Controller{cfg: cfg, current: cfg.Base}
}

// Busy reports whether the controller considers the process busy.
func (c *Controller) Busy() bool { return c.busy }

// Floor is the heap goal below which the busy process does not collect now.
func (c *Controller) Floor() uint64 {
	n := c.cfg.SteadyReadings
	if n <= 0 {
		n = steadyReadings
	}
	if c.steady >= n && c.last.Cycles > c.cycles && c.cfg.SteadyHeap > c.cfg.MinHeap {
		return c.cfg.SteadyHeap
	}
	return c.cfg.MinHeap
}

// Restart makes r the starting point of the next rate without deciding anything.
func (c *Controller) Restart(r Reading) {
	c.started, c.last = true, r
}

// Step takes a reading and returns what to do. The first reading, and one that goes back in time or in
// allocated bytes, only sets the starting point.
func (c *Controller) Step(r Reading) Decision {
	if !c.started || !r.At.After(c.last.At) || r.Allocated < c.last.Allocated {
		c.Restart(r)
		return Decision{}
	}
	nowBusy := Busy(r.Allocated-c.last.Allocated, r.At.Sub(c.last.At), c.cfg.BusyRate, c.busy)
	c.last = r
	switch {
	case nowBusy:
		c.busy, c.slow = true, 0
	case c.busy:
		if c.slow++; c.slow >= idleReadings {
			c.busy, c.slow = false, 0
		}
	}
	if !c.busy {
		c.steady, c.peak = 0, 0
		if c.current == c.cfg.Base {
			return Decision{}
		}
		c.current = c.cfg.Base
		return Decision{Set: true, Percent: c.cfg.Base, Release: true}
	}
	if c.peak == 0 || r.Live > c.peak+c.peak/growthDivisor {
		c.steady, c.peak, c.cycles = 0, r.Live, r.Cycles
	} else {
		c.steady++
		c.peak = max(c.peak, r.Live)
	}
	want := Percent(r.Live, c.Floor(), c.cfg.Base)
	d := want - c.current
	if d == 0 || (d*changeDivisor <= c.current && -d*changeDivisor <= c.current) {
		return Decision{}
	}
	c.current = want
	return Decision{Set: true, Percent: want}
}

// Percent returns the GC percentage that puts the next collection at minHeap for a live heap of live bytes,
// never below base nor above maxPercent. base < 0 (collector off) and live == 0 (no collection yet) give base.
func Percent(live uint64, minHeap uint64, base int) int {
	if base < 0 || live == 0 {
		return base
	}
	if live*uint64(100+base)/100 >= minHeap {
		return base
	}
	p := int(minHeap*100/live) - 100
	if p > maxPercent {
		p = maxPercent
	}
	if p < base {
		p = base
	}
	return p
}

// Busy reports whether allocating allocated bytes in elapsed is fast: at least rate bytes per second. A busy
// process stays busy until the rate falls below rate/idleDivisor (hysteresis).
func Busy(allocated uint64, elapsed time.Duration, rate uint64, wasBusy bool) bool {
	if elapsed <= 0 {
		return wasBusy
	}
	perSecond := float64(allocated) / elapsed.Seconds()
	if wasBusy {
		return perSecond >= float64(rate)/idleDivisor
	}
	return perSecond >= float64(rate)
}

// UserTuned reports whether the environment (getenv) sets GOGC or GOMEMLIMIT: the user tunes the collector.
func UserTuned(getenv func(string) string) bool {
	return getenv("GOGC") != "" || getenv("GOMEMLIMIT") != ""
}

// Run adjusts the GC percentage every interval until ctx is done, then restores the base percentage (the one
// set when Run starts). It returns at once, changing nothing, when GOGC or GOMEMLIMIT is set in the
// environment or the collector is off. minHeap <= 0 or DefaultMinHeap means DefaultConfig (both floors
// capped to the process's memory); another minHeap is the only floor, busy and steady, uncapped. interval <= 0
// means DefaultInterval.
func Run(ctx context.Context, minHeap int64, interval time.Duration) {
	if UserTuned(os.Getenv) {
		return
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	if base < 0 {
		return
	}
	cfg := DefaultConfig(memoryLimit(), base)
	if minHeap > 0 && uint64(minHeap) != DefaultMinHeap {
		cfg.MinHeap, cfg.SteadyHeap = uint64(minHeap), uint64(minHeap)
	}
	defer debug.SetGCPercent(base)
	c := NewController(cfg)
	samples := []metrics.Sample{{Name: liveHeapMetric}, {Name: allocsMetric}, {Name: cyclesMetric}}
	read := func() Reading {
		metrics.Read(samples)
		return Reading{At: time.Now(), Live: uint64Of(samples[0]), Allocated: uint64Of(samples[1]), Cycles: uint64Of(samples[2])}
	}
	c.Step(read())
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		d := c.Step(read())
		if !d.Set {
			continue
		}
		debug.SetGCPercent(d.Percent)
		if d.Release {
			debug.FreeOSMemory() // collect down to the base goal and give the floor's pages back
			c.Restart(read())    // the rate starts after the release, whose collection is not the process's
		}
	}
}

// memoryLimit returns the memory this process may use: the cgroup v2 limit when there is one, else the
// machine's MemTotal; 0 when neither can be read.
func memoryLimit() uint64 {
	total := memTotal()
	if b, err := os.ReadFile(cgroupMaxPath); err == nil {
		if n, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64); err == nil && (total == 0 || n < total) {
			return n
		}
	}
	return total
}

// memTotal reads MemTotal from /proc/meminfo in bytes; 0 when it cannot.
func memTotal() uint64 {
	f, err := os.Open(meminfoPath)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) >= 2 && string(fields[0]) == "MemTotal:" {
			kb, err := strconv.ParseUint(string(fields[1]), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

func uint64Of(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
