package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat on Linux.
const clockTicks = 100

// BenchmarkCompatExpress serves a trivial Express 4 route and an express.static file from the binary and from
// Node 20 in the same run and reports requests per second, server CPU per request (all processes of the server's
// process tree, from /proc) and the time to a ready server with Express loaded. Compare the binary/* and node/*
// lines for the ratio.
func BenchmarkCompatExpress(b *testing.B) {
	dir := compatDir(b)
	bin := compatBenchBinary(b)
	targets := []struct{ name, path string }{{"hello", "/"}, {"static", "/static/hello.txt"}}
	for _, server := range []string{"binary", "node"} {
		port := compatFreePort(b)
		began := time.Now()
		var pgid int
		if server == "binary" {
			s, err := launch(bin, []string{"--workerController", filepath.Join(dir, "worker.js"), "--port", strconv.Itoa(port),
				"--listen", "127.0.0.1", "--logLevel", "1", "--workers", "1"}, port, []string{"COMPAT_APP=bench", "NODE_ENV=production"})
			if s != nil {
				b.Cleanup(func() { _ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL); <-s.done })
			}
			if err != nil {
				b.Fatal(err)
			}
			pgid = s.cmd.Process.Pid
		} else {
			pgid = startNodeApp(b, dir, "bench", port).Process.Pid
		}
		startup := time.Since(began)
		for _, tg := range targets {
			b.Run(server+"/"+tg.name, func(b *testing.B) {
				url := fmt.Sprintf("http://127.0.0.1:%d%s", port, tg.path)
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
				var failed atomic.Int64
				cpu0 := treeCPU(pgid)
				start := time.Now()
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						ctx, cancel := context.WithTimeout(context.Background(), compatRequestTimeout)
						req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
						resp, err := client.Do(req)
						if err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != http.StatusOK {
								failed.Add(1)
							}
						} else {
							failed.Add(1)
						}
						cancel()
					}
				})
				elapsed := time.Since(start)
				cpu := treeCPU(pgid) - cpu0
				if n := failed.Load(); n > 0 {
					b.Fatalf("%d of %d requests failed", n, b.N)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
				b.ReportMetric(float64(startup.Milliseconds()), "startup-ms")
			})
		}
	}
}

// treeCPU sums user+system CPU time of process root and all its descendants (balancer and worker children).
func treeCPU(root int) time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	type proc struct{ ppid, ticks int64 }
	procs := map[int64]proc{}
	for _, e := range entries {
		pid, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// After the ")" closing the command name: state ppid pgrp ... utime and stime are the 12th and 13th.
		rest := string(data)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 && i+2 <= len(rest) {
			rest = rest[i+2:]
		}
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.ParseInt(f[1], 10, 64)
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		// cutime/cstime (14th, 15th) hold reaped children; live children are counted through the tree.
		procs[pid] = proc{ppid: ppid, ticks: ut + st}
	}
	var ticks int64
	for pid, p := range procs {
		for cur, depth := pid, 0; depth < 16; depth++ {
			if cur == int64(root) {
				ticks += p.ticks
				break
			}
			parent, ok := procs[cur]
			if !ok {
				break
			}
			cur = parent.ppid
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

func compatFreePort(b testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// compatBenchBinary returns SC_E2E_SERVER or builds the binary into the run's work directory.
func compatBenchBinary(b testing.TB) string {
	if p := os.Getenv("SC_E2E_SERVER"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			b.Fatal(err)
		}
		return abs
	}
	out := filepath.Join(workDir, "socketcluster-bench")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/socketcluster")
	cmd.Dir = repoRoot
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, msg)
	}
	return out
}
