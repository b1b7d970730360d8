package gctune

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
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
	const mb = 1 << 20
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
		for i := 0; i < 64; i++ { // about 100 MB/s or more: busy against a 64 MB/s threshold
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
