package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clockTick is the kernel's USER_HZ for /proc/<pid>/stat times.
const clockTick = 10 * time.Millisecond

// cpu sums user+system CPU of every process of the cluster.
func (tc *testCluster) cpu() time.Duration {
	var total time.Duration
	for _, pid := range tc.procs() {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// fields after the ")" of the command name: state is field 3,
		// utime field 14, stime field 15
		i := bytes.LastIndexByte(b, ')')
		f := bytes.Fields(b[i+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(string(f[11]), 10, 64)
		s, _ := strconv.ParseInt(string(f[12]), 10, 64)
		total += time.Duration(u+s) * clockTick
	}
	return total
}

// BenchmarkClusterEcho measures emit-with-ack echo RPCs from 4 clients per
// worker, each in a closed loop, through the balancer and straight to the
// workers (bypassing it), with 1 and 2 worker processes. server-cpu-ns/op
// is the CPU of all cluster processes (master, balancer, workers) per RPC,
// from /proc (10 ms resolution: use -benchtime of a few seconds).
func BenchmarkClusterEcho(b *testing.B) {
	payload := map[string]any{"n": 12345, "text": "hello world"}
	for _, workers := range []int{1, 2} {
		tc := startCluster(b, "--workers", strconv.Itoa(workers))
		waitUntil(b, 10*time.Second, "worker addresses", func() bool { return len(tc.workers()) == workers })
		addrs := tc.workers()
		for _, via := range []string{"balancer", "direct"} {
			b.Run(fmt.Sprintf("workers=%d/%s", workers, via), func(b *testing.B) {
				n := 4 * workers
				clients := make([]*scClient, n)
				for i := range clients {
					addr := tc.addr
					if via == "direct" {
						addr = addrs[i%workers][0]
					}
					c, err := dialSC(addr, nil)
					if err != nil {
						b.Fatal(err)
					}
					defer c.ws.Close()
					clients[i] = c
				}
				var left atomic.Int64
				left.Store(int64(b.N))
				var wg sync.WaitGroup
				cpu0 := tc.cpu()
				b.ResetTimer()
				for _, c := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for left.Add(-1) >= 0 {
							if _, err := c.call("echo", payload, 10*time.Second); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64((tc.cpu()-cpu0).Nanoseconds())/float64(b.N), "server-cpu-ns/op")
			})
		}
	}
}
