package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/socketcluster-go/socketcluster/cluster"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

// TestMain lets this test binary stand in for the real one: the master,
// run in-process by the tests, re-executes os.Executable() (this binary)
// for its children, which carry cluster.ChildEnv.
func TestMain(m *testing.M) {
	if os.Getenv(cluster.ChildEnv) != "" {
		code, err := run(context.Background(), os.Args, os.Stdout, os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "socketcluster:", err)
		}
		os.Exit(code)
	}
	os.Exit(testenv.WithTempModuleCache(m.Run))
}
