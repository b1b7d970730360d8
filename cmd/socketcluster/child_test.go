package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/socketcluster-go/socketcluster/cluster"

	jsrt "github.com/socketcluster-go/socketcluster/runtime"
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
	os.Exit(withTempModuleCache(m.Run))
}

// withTempModuleCache runs run with the workers' module cache (jsrt.ModuleCacheEnv) in a temporary directory,
// unless the environment names one, so test runs do not write manifests into the user's cache directory.
func withTempModuleCache(run func() int) int {
	if os.Getenv(jsrt.ModuleCacheEnv) != "" {
		return run()
	}
	dir, err := os.MkdirTemp("", "sc-modcache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	os.Setenv(jsrt.ModuleCacheEnv, dir)
	return run()
}
