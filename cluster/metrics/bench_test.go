package metrics

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// BenchmarkStoreOpsCount is the cost the store's op counters add to each command.
func BenchmarkStoreOpsCount(b *testing.B) {
	ops := NewStoreOps(prometheus.NewRegistry(), []string{"get", "set", "publish"})
	b.ReportAllocs()
	for b.Loop() {
		ops.Count("publish", nil)
	}
}

// BenchmarkMerge merges what a cluster of 8 workers, 1 balancer and 1 store exposes (a master scrape's CPU).
func BenchmarkMerge(b *testing.B) {
	var srcs []Source
	for i := 0; i < 10; i++ {
		reg := NewProcessRegistry()
		if i < 8 {
			reg = NewWorker(i, Sources{}).Registry()
		}
		fams, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprint("p", i)
		srcs = append(srcs, Source{Name: name, Labels: map[string]string{"kind": "k", "process": name}, Families: fams})
	}
	b.ReportAllocs()
	var out []*dto.MetricFamily
	for b.Loop() {
		out, _ = Merge(srcs)
	}
	if len(out) == 0 {
		b.Fatal("nothing merged")
	}
}
