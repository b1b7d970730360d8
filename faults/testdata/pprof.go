package main

// Added to the socketcluster binary by the fault-injection suite only (go build -overlay, see faults/cluster_test.go):
// every process of the cluster serves net/http/pprof on an ephemeral loopback port and announces it on stderr as
// "faults-pprof <pid> <addr>", so the suite can read each process's goroutine count.

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return
	}
	fmt.Fprintf(os.Stderr, "faults-pprof %d %s\n", os.Getpid(), l.Addr())
	go func() { _ = http.Serve(l, nil) }()
}
