// Command socketcluster runs a SocketCluster 0.9 compatible server:
//
//	socketcluster --workerController worker.js [--port 8000] [--appName NAME]
//
// See the README for every option.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	code, err := run(context.Background(), os.Args, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socketcluster:", err)
	}
	os.Exit(code)
}

// exitError carries an exit code through urfave/cli.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// run is the whole program; it never calls os.Exit.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	app := newApp(stdout, stderr)
	if err := app.RunContext(ctx, args); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code, ee.err
		}
		return 2, err
	}
	return 0, nil
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "socketcluster",
		Usage:     "a SocketCluster 0.9 compatible WebSocket + long-polling server that runs worker.js files unchanged",
		UsageText: "socketcluster --workerController worker.js [--port 8000] [--appName NAME] [options]",
		Flags:     masterFlags(),
		Writer:    stdout,
		ErrWriter: stderr,
		Action: func(c *cli.Context) error {
			return runMaster(c, stdout, stderr)
		},
		Commands:        childCommands(stdout, stderr),
		HideHelpCommand: true,
	}
}
