package gctune

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	tests := []struct {
		name    string
		live    uint64
		minHeap uint64
		base    int
		want    int
	}{
		{"collector off stays off", 4 * mb, 32 * mb, -1, -1},
		{"no live heap yet", 0, 32 * mb, 100, 100},
		{"small heap raised to the floor", 8 * mb, 32 * mb, 100, 300},
		{"tiny heap capped", 1 * mb, 32 * mb, 100, maxPercent},
		{"heap at the floor keeps base", 16 * mb, 32 * mb, 100, 100},
		{"large heap keeps base", 200 * mb, 32 * mb, 100, 100},
		{"never below a higher base", 20 * mb, 32 * mb, 150, 150},
		{"higher base still raised", 4 * mb, 32 * mb, 200, 700},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percent(tc.live, tc.minHeap, tc.base); got != tc.want {
				t.Fatalf("Percent(%d, %d, %d) = %d, want %d", tc.live, tc.minHeap, tc.base, got, tc.want)
			}
		})
	}
}

func TestBusy(t *testing.T) {
	tests := []struct {
		name      string
		allocated uint64
		wasBusy   bool
		want      bool
	}{
		{"fast allocation is busy", 16 * mb, false, true},
		{"slow allocation is idle", 1 * mb, false, false},
		{"busy stays busy above an eighth", 2 * mb, true, true},
		{"busy becomes idle below an eighth", mb / 2, true, false},
		{"nothing allocated is idle", 0, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// 250 ms intervals against a 32 MB/s threshold: 8 MB per interval is the limit, 1 MB the idle one for a busy process.
			if got := Busy(tc.allocated, 250*time.Millisecond, 32*mb, tc.wasBusy); got != tc.want {
				t.Fatalf("Busy(%d, wasBusy=%v) = %v, want %v", tc.allocated, tc.wasBusy, got, tc.want)
			}
		})
	}
}

// Run raises the percentage while this test allocates fast, and restores the base one when it stops.
func TestRunRaisesAndRestores(t *testing.T) {
	t.Setenv("GOGC", "") // empty is unset: Run tunes
	t.Setenv("GOMEMLIMIT", "")
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	runtime.GC() // the live heap is known after a collection
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, 64<<20, 10*time.Millisecond)
	}()
	deadline := time.Now().Add(5 * time.Second)
	raised := false
	var sink []byte
	for time.Now().Before(deadline) && !raised {
		for i := 0; i < 64; i++ { // about 100 MB/s or more: busy against the 32 MB/s threshold
			sink = make([]byte, 16<<10)
		}
		raised = gogc() > 100
		time.Sleep(time.Millisecond)
	}
	_ = sink
	cancel()
	<-done
	if !raised {
		t.Fatal("percentage not raised within 5s while allocating fast with a small live heap")
	}
	if p := gogc(); p != 100 {
		t.Fatalf("percentage after Run = %d, want the base 100", p)
	}
}

// gogc reads the current percentage without setting it.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

const mb = 1 << 20

// step is one reading fed to a controller: dt after the previous one (interval when 0), alloc bytes allocated
// in it, the live heap and the collections so far; want is the decision expected, floor the floor after it.
type step struct {
	dt     time.Duration
	alloc  uint64
	live   uint64
	cycles uint64
	want   Decision
	floor  uint64
}

func TestControllerStep(t *testing.T) {
	const interval = 250 * time.Millisecond
	cfg := Config{MinHeap: 32 * mb, SteadyHeap: 64 * mb, BusyRate: 32 * mb, Base: 100}
	set := func(p int) Decision { return Decision{Set: true, Percent: p} }
	release := Decision{Set: true, Percent: 100, Release: true}
	fast := uint64(16 * mb) // 64 MB/s over 250 ms
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"slow allocation stays at base", cfg, []step{
			{live: 8 * mb}, {alloc: 4 * mb, live: 8 * mb, floor: 32 * mb}, {alloc: 7 * mb, live: 8 * mb, floor: 32 * mb},
		}},
		{"fast allocation raises to the first floor", cfg, []step{
			{live: 8 * mb}, {alloc: fast, live: 8 * mb, cycles: 1, want: set(300), floor: 32 * mb},
		}},
		{"steady with a collection raises to the steady floor", cfg, []step{
			{live: 8 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, want: set(300), floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 2, floor: 32 * mb},
			{alloc: fast, live: 9 * mb, cycles: 3, want: set(255), floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 4, want: set(300), floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 5, want: set(700), floor: 64 * mb},
			{alloc: fast, live: 8 * mb, cycles: 6, floor: 64 * mb},
		}},
		{"no collection in the run stays at the first floor", cfg, []step{
			{live: 8 * mb, cycles: 1},
			{alloc: fast, live: 8 * mb, cycles: 1, want: set(300), floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, floor: 32 * mb},
		}},
		{"a growing live heap (a storm of connections) keeps the first floor", cfg, []step{
			{live: 8 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, want: set(300), floor: 32 * mb},
			{alloc: fast, live: 11 * mb, cycles: 2, want: set(190), floor: 32 * mb},
			{alloc: fast, live: 14 * mb, cycles: 3, want: set(128), floor: 32 * mb},
			{alloc: fast, live: 18 * mb, cycles: 4, want: set(100), floor: 32 * mb},
			{alloc: fast, live: 23 * mb, cycles: 5, floor: 32 * mb},
			{alloc: fast, live: 23 * mb, cycles: 6, floor: 32 * mb},
			{alloc: fast, live: 23 * mb, cycles: 7, floor: 32 * mb},
			{alloc: fast, live: 23 * mb, cycles: 8, floor: 32 * mb},
			{alloc: fast, live: 23 * mb, cycles: 9, want: set(178), floor: 64 * mb},
		}},
		{"idle after two slow readings restores the base and releases", cfg, []step{
			{live: 8 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, want: set(300), floor: 32 * mb},
			{alloc: 0, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: 0, live: 8 * mb, cycles: 1, want: release, floor: 32 * mb},
			{alloc: 0, live: 8 * mb, cycles: 1, floor: 32 * mb},
		}},
		{"idle drops the steady floor", cfg, []step{
			{live: 8 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, want: set(300)},
			{alloc: fast, live: 8 * mb, cycles: 2},
			{alloc: fast, live: 8 * mb, cycles: 3},
			{alloc: fast, live: 8 * mb, cycles: 4},
			{alloc: fast, live: 8 * mb, cycles: 5, want: set(700), floor: 64 * mb},
			{alloc: 0, live: 8 * mb, cycles: 5, floor: 64 * mb},
			{alloc: 0, live: 8 * mb, cycles: 5, want: release, floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 6, want: set(300), floor: 32 * mb},
		}},
		{"busy stays busy above an eighth of the rate", cfg, []step{
			{live: 8 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, want: set(300), floor: 32 * mb},
			{alloc: 2 * mb, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: 2 * mb, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: mb / 2, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: mb / 2, live: 8 * mb, cycles: 1, want: release, floor: 32 * mb},
		}},
		{"a change of a tenth or less is not applied", cfg, []step{
			{live: 8 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, want: set(300), floor: 32 * mb},
			{alloc: fast, live: 8*mb + mb/2, cycles: 2, floor: 32 * mb},
		}},
		{"a large live heap keeps the base", cfg, []step{
			{live: 100 * mb},
			{alloc: fast, live: 100 * mb, cycles: 1, floor: 32 * mb},
			{alloc: 0, live: 100 * mb, cycles: 1, floor: 32 * mb},
			{alloc: 0, live: 100 * mb, cycles: 1, floor: 32 * mb},
		}},
		{"collector off is never changed", Config{MinHeap: 32 * mb, SteadyHeap: 64 * mb, BusyRate: 32 * mb, Base: -1}, []step{
			{live: 8 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: 0, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: 0, live: 8 * mb, cycles: 1, floor: 32 * mb},
		}},
		{"a reading that goes back in time only restarts", cfg, []step{
			{live: 8 * mb},
			{dt: -time.Second, alloc: fast, live: 8 * mb, cycles: 1, floor: 32 * mb},
			{alloc: 4 * mb, live: 8 * mb, cycles: 1, floor: 32 * mb},
		}},
		{"the rate uses the real time between readings", cfg, []step{
			{live: 8 * mb},
			{dt: time.Second, alloc: fast, live: 8 * mb, cycles: 1, floor: 32 * mb}, // 16 MB/s: not busy
			{dt: 100 * time.Millisecond, alloc: 4 * mb, live: 8 * mb, cycles: 1, want: set(300), floor: 32 * mb},
		}},
		{"a first floor above the steady one is kept", Config{MinHeap: 32 * mb, SteadyHeap: 16 * mb, BusyRate: 32 * mb, Base: 100}, []step{
			{live: 8 * mb},
			{alloc: fast, live: 8 * mb, cycles: 1, want: set(300), floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 2, floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 3, floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 4, floor: 32 * mb},
			{alloc: fast, live: 8 * mb, cycles: 5, floor: 32 * mb},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewController(tc.cfg)
			at := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
			var allocated uint64
			for i, s := range tc.steps {
				if i > 0 {
					dt := s.dt
					if dt == 0 {
						dt = interval
					}
					at = at.Add(dt)
				}
				allocated += s.alloc
				got := c.Step(Reading{At: at, Allocated: allocated, Live: s.live, Cycles: s.cycles})
				if got != s.want {
					t.Fatalf("step %d: decision %+v, want %+v", i, got, s.want)
				}
				if s.floor != 0 && c.Floor() != s.floor {
					t.Fatalf("step %d: floor %d MB, want %d MB", i, c.Floor()/mb, s.floor/mb)
				}
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	tests := []struct {
		name           string
		memLimit       uint64
		minHeap, ready uint64
	}{
		{"unknown memory: defaults", 0, DefaultMinHeap, DefaultSteadyHeap},
		{"24 GB machine: defaults", 24 << 30, DefaultMinHeap, DefaultSteadyHeap},
		{"1 GB container: both at a 32nd", 1 << 30, 32 * mb, 32 * mb},
		{"256 MB container: both at a 32nd", 256 * mb, 8 * mb, 8 * mb},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig(tc.memLimit, 100)
			if cfg.MinHeap != tc.minHeap || cfg.SteadyHeap != tc.ready || cfg.Base != 100 || cfg.BusyRate != DefaultBusyRate {
				t.Fatalf("DefaultConfig(%d) = %+v, want floors %d/%d", tc.memLimit, cfg, tc.minHeap, tc.ready)
			}
		})
	}
}

func TestUserTuned(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"GOGC set", map[string]string{"GOGC": "200"}, true},
		{"GOGC off", map[string]string{"GOGC": "off"}, true},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "512MiB"}, true},
		{"other variables only", map[string]string{"GODEBUG": "gctrace=1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UserTuned(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Fatalf("UserTuned(%v) = %v, want %v", tc.env, got, tc.want)
			}
		})
	}
}

// With GOGC or GOMEMLIMIT in the environment Run returns at once and leaves the percentage and the limit alone.
func TestRunLeavesUserSettingsAlone(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv("GOGC", "")
			t.Setenv("GOMEMLIMIT", "")
			t.Setenv(env, map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}[env])
			base := debug.SetGCPercent(150)
			defer debug.SetGCPercent(base)
			limit := debug.SetMemoryLimit(-1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			go func() {
				defer close(done)
				Run(ctx, 0, time.Millisecond)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return within 5s with " + env + " set")
			}
			if p := gogc(); p != 150 {
				t.Fatalf("percentage after Run = %d, want the user's 150", p)
			}
			if l := debug.SetMemoryLimit(-1); l != limit {
				t.Fatalf("memory limit after Run = %d, want %d", l, limit)
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	if _, err := os.Stat(meminfoPath); err != nil {
		t.Fatalf("%s: %v (gctune's memory cap reads it; the project runs on Linux)", meminfoPath, err)
	}
	total := memTotal()
	if total == 0 {
		t.Fatal("MemTotal not read from " + meminfoPath)
	}
	if l := memoryLimit(); l == 0 || l > total {
		t.Fatalf("memoryLimit() = %d, want in (0, MemTotal %d]", l, total)
	}
}
