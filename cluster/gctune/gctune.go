// Package gctune gives a busy process a minimum heap goal and an idle one its memory back.
//
// A worker allocates per message (engine.io frames, SC envelopes, goja call stacks) while its live heap stays
// a few MB, so with GOGC=100 it collects tens of times per second and the collector's fixed costs (stack scans,
// mark assists) take a fifth of its CPU. While the process allocates fast (busy), Run raises the collector's
// percentage so that the next collection happens at MinHeap at the earliest; for a large live heap (many
// connections) the base percentage (GOGC) applies unchanged. When allocation stops (idle), the base percentage
// is restored and the heap is collected and returned to the OS once, so an idle process does not keep the
// floor's extra memory.
package gctune

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// DefaultMinHeap is the heap goal below which a busy worker does not collect.
	DefaultMinHeap = 32 << 20
	// DefaultInterval is how often the allocation rate and the live heap are looked at.
	DefaultInterval = 250 * time.Millisecond
	// maxPercent bounds the raised percentage.
	maxPercent = 1000
	// idleIntervals is how many intervals in a row of slow allocation make a busy process idle.
	idleIntervals  = 2
	liveHeapMetric = "/gc/heap/live:bytes"
	allocsMetric   = "/gc/heap/allocs:bytes"
)

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

// Busy reports whether allocating allocated bytes in one interval is fast: at least minHeap per second. A busy
// process stays busy until the rate falls below an eighth of that (hysteresis).
func Busy(allocated uint64, interval time.Duration, minHeap uint64, wasBusy bool) bool {
	perSecond := float64(allocated) / interval.Seconds()
	if wasBusy {
		return perSecond >= float64(minHeap)/8
	}
	return perSecond >= float64(minHeap)
}

// Run adjusts the GC percentage every interval until ctx is done, then restores the base percentage (the one
// set when Run starts, i.e. GOGC). minHeap <= 0 means DefaultMinHeap; interval <= 0 means DefaultInterval.
func Run(ctx context.Context, minHeap int64, interval time.Duration) {
	if minHeap <= 0 {
		minHeap = DefaultMinHeap
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	if base < 0 {
		return
	}
	current := base
	defer func() { debug.SetGCPercent(base) }()
	samples := []metrics.Sample{{Name: liveHeapMetric}, {Name: allocsMetric}}
	metrics.Read(samples)
	lastAllocs := uint64Of(samples[1])
	busy, slow := false, 0
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(samples)
		allocs := uint64Of(samples[1])
		nowBusy := Busy(allocs-lastAllocs, interval, uint64(minHeap), busy)
		lastAllocs = allocs
		switch {
		case nowBusy:
			busy, slow = true, 0
		case busy:
			if slow++; slow >= idleIntervals {
				busy, slow = false, 0
			}
		}
		want := base
		if busy {
			want = Percent(uint64Of(samples[0]), uint64(minHeap), base)
		}
		if want == current {
			continue
		}
		if !busy {
			debug.SetGCPercent(base)
			current = base
			debug.FreeOSMemory() // collect down to the base goal and give the floor's pages back
			metrics.Read(samples)
			lastAllocs = uint64Of(samples[1])
			continue
		}
		// Only a change of more than a tenth is applied: setting the percentage is not free.
		if d := want - current; d*10 > current || -d*10 > current {
			debug.SetGCPercent(want)
			current = want
		}
	}
}

func uint64Of(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
