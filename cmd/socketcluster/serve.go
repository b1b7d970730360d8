package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/socketcluster-go/socketcluster/cluster"
)

// shutdownGrace bounds the graceful drain on SIGTERM/SIGINT.
const shutdownGrace = 10 * time.Second

func logLevel(n int) slog.Level {
	switch {
	case n <= 0:
		return slog.LevelError
	case n == 1:
		return slog.LevelWarn
	case n == 2:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

func runServer(c *cli.Context, stdout, stderr io.Writer) error {
	opts, err := optionsFromFlags(c)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	log := slog.New(newLineHandler(stderr, logLevel(opts.LogLevel))).With("proc", "worker 0")
	banner := opts.LogLevel > 0
	if banner {
		fmt.Fprintln(stdout, "   [Busy] Launching SocketCluster")
	}
	var key [32]byte
	_, _ = rand.Read(key[:])
	opts.DataKey = hex.EncodeToString(key[:])
	cfg := cluster.WorkerConfig{Options: opts, Logger: log, Stdout: stdout, Stderr: stderr}
	addClientFiles(&cfg)
	w, err := cluster.NewWorker(cfg)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(c.String("listen"), strconv.Itoa(opts.Port)))
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("listen on port %d: %w", opts.Port, err)}
	}
	if banner {
		fmt.Fprintf(stdout, "   [Active] SocketCluster started\n"+
			"            Port: %d\n"+
			"            Master PID: %d\n"+
			"            Worker PID: %d\n"+
			"            Balancer count: 0\n"+
			"            Worker count: 1\n"+
			"            Store count: 0\n", l.Addr().(*net.TCPAddr).Port, os.Getpid(), os.Getpid())
	}
	if err := w.Serve(c.Context, l, shutdownGrace); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}
