// Package faults holds the fault-injection suite of the cluster (issue 8, item 5). It has no library code: its
// tests build the socketcluster binary, start a real cluster (workers, store processes and a balancer as separate
// processes on 127.0.0.1), drive it with Go clients that speak the wire protocol (engine.io over WebSocket and long
// polling, the SC envelope), and let a nemesis kill -9 workers, a store and the balancer, SIGSTOP a worker past the
// heartbeat timeout, delay and cut connections through an in-process TCP proxy, and run a client that never reads.
//
// It exists as its own package because it needs a built binary (so each child is exactly what users run), takes
// tens of seconds, and checks the cluster as a whole: no phantom or duplicate deliveries, per-publisher order,
// no cross-channel leaks, complete delivery outside fault windows, bounded recovery after every fault, acked
// session writes surviving a worker crash, and the processes' goroutines, file descriptors and RSS returning near
// their baseline once the clients have left.
//
// Default profile: `go test ./faults/` (well under a minute). Longer profile: SC_FAULTS_LONG=1 runs the fault
// schedule several rounds with more clients.
package faults
