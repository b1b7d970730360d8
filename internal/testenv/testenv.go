// Package testenv holds what the test binaries that start real socketcluster processes share.
package testenv

import (
	"fmt"
	"os"

	jsrt "github.com/socketcluster-go/socketcluster/runtime"
)

// WithTempModuleCache runs run with the workers' module cache (jsrt.ModuleCacheEnv, inherited by every process
// the tests start) in a temporary directory, unless the environment names one, so test runs do not write
// manifests into the user's cache directory. It returns run's exit code (2 when no directory can be made).
// Meant for TestMain: os.Exit(testenv.WithTempModuleCache(m.Run)).
func WithTempModuleCache(run func() int) int {
	if os.Getenv(jsrt.ModuleCacheEnv) != "" {
		return run()
	}
	dir, err := os.MkdirTemp("", "sc-modcache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	if err := os.Setenv(jsrt.ModuleCacheEnv, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return run()
}
