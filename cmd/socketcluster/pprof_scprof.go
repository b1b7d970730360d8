//go:build scprof

package main

// Profiling aid, only in binaries built with -tags scprof: every process of the cluster (master, balancer,
// workers, stores) serves net/http/pprof on an ephemeral loopback port and writes "pprof <pid> <addr>" to
// stderr, e.g. for `go tool pprof http://<addr>/debug/pprof/profile?seconds=5`.

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
	fmt.Fprintf(os.Stderr, "pprof %d %s %v\n", os.Getpid(), l.Addr(), os.Args[1:])
	go func() { _ = http.Serve(l, nil) }()
}
