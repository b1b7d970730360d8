package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/socketcluster-go/socketcluster/cluster"
	"github.com/socketcluster-go/socketcluster/cluster/metrics"
)

// serveChildMetrics serves g on an ephemeral loopback port (metrics.Path, protected by the cluster secret) until
// ctx ends and tells the master where (cluster.ReportMetrics). Balancers and stores call it before their ready
// report; workers serve their metrics on their own port. A failure only costs the metrics.
func serveChildMetrics(ctx context.Context, ch *cluster.Child, log *slog.Logger, g prometheus.Gatherer) {
	addr, err := metrics.ServeLoopback(ctx, ch.Config().Options.DataKey, g)
	if err != nil {
		log.Warn("metrics not served", "err", err)
		return
	}
	if err := ch.Report(cluster.Report{Type: cluster.ReportMetrics, Addr: addr}); err != nil {
		log.Warn("metrics report failed", "err", err)
	}
}
