package store

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
)

// benchSetGet runs set+get pairs from b.RunParallel goroutines (GOMAXPROCS x -cpu, pipelined over one
// connection/pool); ops/s = 2 * b.N / elapsed.
func benchSetGet(b *testing.B, e Engine) {
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := n.Add(1)
		i := 0
		for pb.Next() {
			k := Key{"__iocl", "sed", fmt.Sprintf("s%d-%d", id, i%64), "v"}
			if _, err := e.Set(ctx, k, json.RawMessage(`{"a":1}`), false); err != nil {
				b.Fatal(err)
			}
			if _, err := e.Get(ctx, k); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkStoreSetGet(b *testing.B) {
	_, addr := startServer(b, ServerOptions{})
	c := dialClient(b, "tcp", addr, nil)
	b.SetParallelism(8)
	benchSetGet(b, c)
}

func BenchmarkRedisSetGet(b *testing.B) {
	r := startRedis(b, 0)
	e, err := NewRedisEngine(RedisOptions{URL: r.url(), Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.SetParallelism(8)
	benchSetGet(b, e)
}

// benchPublish publishes b.N messages and waits until the subscriber got them all; deliveries/s.
func benchPublish(b *testing.B, pub Engine, got *atomic.Int64) {
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := pub.Publish(ctx, "bench", json.RawMessage(`{"n":1}`)); err != nil {
			b.Fatal(err)
		}
	}
	for got.Load() < int64(b.N) {
		runtime.Gosched() // wait for every delivery
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

func BenchmarkStorePublish(b *testing.B) {
	_, addr := startServer(b, ServerOptions{})
	var got atomic.Int64
	sub := dialClient(b, "tcp", addr, func(o *ClientOptions) {
		o.OnMessage = func(string, json.RawMessage) { got.Add(1) }
	})
	if err := sub.Subscribe(context.Background(), "bench"); err != nil {
		b.Fatal(err)
	}
	benchPublish(b, dialClient(b, "tcp", addr, nil), &got)
}

func BenchmarkRedisPublish(b *testing.B) {
	r := startRedis(b, 0)
	var got atomic.Int64
	sub := newRedisEngine(b, r.url(), "", func(string, json.RawMessage) { got.Add(1) })
	ctx := context.Background()
	if err := sub.Subscribe(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	pub := newRedisEngine(b, r.url(), "", nil)
	waitFor(b, "subscription", 5e9, func() bool {
		return pub.rdb.PubSubNumSub(ctx, "sc:ch:bench").Val()["sc:ch:bench"] == 1
	})
	benchPublish(b, pub, &got)
}

// BenchmarkSessionRecordHeap stores what a worker writes for each new socket (the session's socket record with the
// session's expiry, spec 4.2) b.N times and reports the live heap each adds (heap-B/record, after a GC).
func BenchmarkSessionRecordHeap(b *testing.B) {
	d := NewData()
	keys := make([]Key, b.N)
	for i := range keys {
		id := "host_0_" + strconv.Itoa(40000+i) + "_false_" + strconv.Itoa(1e9+i)
		keys[i] = Key{"__iocl", "sed", id, "__meta", "sockets", id}
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	h0 := heap()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Set(keys[i], json.RawMessage(`1`)); err != nil {
			b.Fatal(err)
		}
		if err := d.Expire([]Key{keys[i][:3]}, 60, 1e9); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	keys = nil
	h1 := heap()
	b.ReportMetric(float64(int64(h1)-int64(h0))/float64(b.N), "heap-B/record")
	runtime.KeepAlive(d)
}
