package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// otherAction labels store commands outside the known set (bounded label values).
const otherAction = "other"

// NewProcessRegistry returns a registry with the Go runtime and process collectors, the base of the balancer and
// store processes' metrics.
func NewProcessRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// RegisterBalancer adds the balancer's gauge of routable workers, read from workers at scrape time.
func RegisterBalancer(reg prometheus.Registerer, workers func() int) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "balancer_workers",
		Help: "Workers in the balancer's routing table."}, func() float64 { return float64(workers()) }))
}

// StoreOps counts the commands a store process executed, by command.
type StoreOps struct {
	ops, errs map[string]prometheus.Counter // read-only after NewStoreOps
}

// NewStoreOps registers socketcluster_store_ops_total and socketcluster_store_op_errors_total on reg with one
// series per known action plus "other".
func NewStoreOps(reg prometheus.Registerer, actions []string) *StoreOps {
	ops := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "store_ops_total",
		Help: "Store commands executed, by command."}, []string{"command"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "store_op_errors_total",
		Help: "Store commands answered with an error, by command."}, []string{"command"})
	reg.MustRegister(ops, errs)
	s := &StoreOps{ops: map[string]prometheus.Counter{}, errs: map[string]prometheus.Counter{}}
	for _, a := range append(append([]string(nil), actions...), otherAction) {
		s.ops[a] = ops.WithLabelValues(a)
		s.errs[a] = errs.WithLabelValues(a)
	}
	return s
}

// Count records one executed command; err is its outcome. Any goroutine.
func (s *StoreOps) Count(action string, err error) {
	c, ok := s.ops[action]
	if !ok {
		action = otherAction
		c = s.ops[action]
	}
	c.Inc()
	if err != nil {
		s.errs[action].Inc()
	}
}
