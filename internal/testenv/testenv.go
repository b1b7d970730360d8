// Package testenv holds what the test binaries that start real socketcluster processes share.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"sync"
)

// moduleCacheEnv is runtime.ModuleCacheEnv (spelled out: runtime's own tests import this package).
const moduleCacheEnv = "SOCKETCLUSTER_MODULE_CACHE"

// Buffer is a goroutine-safe bytes.Buffer for a process's output or a logger's lines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WithTempModuleCache runs run with the workers' module cache (runtime.ModuleCacheEnv, inherited by every process
// the tests start) in a temporary directory, unless the environment names one, so test runs do not write
// manifests into the user's cache directory. It returns run's exit code (2 when no directory can be made).
// Meant for TestMain: os.Exit(testenv.WithTempModuleCache(m.Run)).
func WithTempModuleCache(run func() int) int {
	if os.Getenv(moduleCacheEnv) != "" {
		return run()
	}
	dir, err := os.MkdirTemp("", "sc-modcache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	if err := os.Setenv(moduleCacheEnv, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return run()
}
