package testenv_test

import (
	"os"
	"testing"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
	jsrt "github.com/socketcluster-go/socketcluster/runtime"
)

// TestWithTempModuleCache: without the variable, run sees a fresh directory under runtime.ModuleCacheEnv (so the
// package's spelled-out name is the runtime's) that is gone afterwards; a directory the environment names is kept.
func TestWithTempModuleCache(t *testing.T) {
	t.Setenv(jsrt.ModuleCacheEnv, "")
	os.Unsetenv(jsrt.ModuleCacheEnv)
	var seen string
	if code := testenv.WithTempModuleCache(func() int {
		seen = os.Getenv(jsrt.ModuleCacheEnv)
		if st, err := os.Stat(seen); err != nil || !st.IsDir() {
			t.Errorf("run saw %q, not a directory: %v", seen, err)
		}
		return 7
	}); code != 7 {
		t.Fatalf("exit code %d, want run's 7", code)
	}
	if _, err := os.Stat(seen); !os.IsNotExist(err) {
		t.Errorf("temporary cache %s still there: %v", seen, err)
	}

	mine := t.TempDir()
	t.Setenv(jsrt.ModuleCacheEnv, mine)
	testenv.WithTempModuleCache(func() int {
		if got := os.Getenv(jsrt.ModuleCacheEnv); got != mine {
			t.Errorf("run saw %q, want the environment's %q", got, mine)
		}
		return 0
	})
}

// TestBuffer: writes from several goroutines all arrive.
func TestBuffer(t *testing.T) {
	var b testenv.Buffer
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 100 {
				_, _ = b.Write([]byte("x"))
			}
		}()
	}
	for range 4 {
		<-done
	}
	if got := len(b.String()); got != 400 {
		t.Fatalf("%d bytes, want 400", got)
	}
}
