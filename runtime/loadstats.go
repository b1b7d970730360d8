package runtime

import (
	"sync/atomic"
	"time"
)

// LoadStats are process-wide figures of module loading since the process started: where a worker's start-up
// goes besides running module bodies. Durations are summed over every Loop of the process.
type LoadStats struct {
	Modules   int64         // JavaScript modules Loops loaded (require cache misses; JSON files excluded)
	CacheHits int64         // of Modules, those whose program was already compiled (by an earlier Loop or the prefetcher)
	Resolve   time.Duration // Loop: require resolution (stat walks, package.json), exclusive of module bodies
	Read      time.Duration // Loop: reading module sources through the app root
	Rewrite   time.Duration // Loop: engine workarounds applied to sources before parsing (unicodeprops.go)
	Parse     time.Duration // Loop: goja parser
	Compile   time.Duration // Loop: goja compiler (AST to program)
	// JSON is the Loop's time decoding JSON modules, JSONPrefetched how many of them ran a prefetched program.
	JSON           time.Duration
	JSONPrefetched int64
	// Prefetched counts modules the prefetcher (ModuleCache.Prefetch) compiled, taking PrefetchCPU on its own
	// goroutines beside the Loop; PrefetchWait is the time a Loop waited for a program the prefetcher was still
	// compiling.
	Prefetched   int64
	PrefetchCPU  time.Duration
	PrefetchWait time.Duration
}

// phaseTimes sums the phases of compiling sources.
type phaseTimes struct{ rewrite, parse, compile atomic.Int64 }

var loadStats struct {
	modules, hits, prefetched, jsonPrefetched     atomic.Int64
	resolve, read, json, prefetchNanos, waitNanos atomic.Int64
	loopPhases                                    phaseTimes
}

// ReadLoadStats returns the process-wide module-loading figures.
func ReadLoadStats() LoadStats {
	return LoadStats{
		Modules:        loadStats.modules.Load(),
		CacheHits:      loadStats.hits.Load(),
		Resolve:        time.Duration(loadStats.resolve.Load()),
		Read:           time.Duration(loadStats.read.Load()),
		Rewrite:        time.Duration(loadStats.loopPhases.rewrite.Load()),
		Parse:          time.Duration(loadStats.loopPhases.parse.Load()),
		Compile:        time.Duration(loadStats.loopPhases.compile.Load()),
		JSON:           time.Duration(loadStats.json.Load()),
		JSONPrefetched: loadStats.jsonPrefetched.Load(),
		Prefetched:     loadStats.prefetched.Load(),
		PrefetchCPU:    time.Duration(loadStats.prefetchNanos.Load()),
		PrefetchWait:   time.Duration(loadStats.waitNanos.Load()),
	}
}

// since adds the time elapsed since t0 to c.
func since(c *atomic.Int64, t0 time.Time) { c.Add(int64(time.Since(t0))) }
