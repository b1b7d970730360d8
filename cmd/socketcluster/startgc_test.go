package main

import (
	"runtime/debug"
	"testing"
)

// TestRaiseGCForStartup: start-up raises the GC percentage and restores it, but leaves a collector the user
// tuned (GOGC or GOMEMLIMIT in the environment) alone.
func TestRaiseGCForStartup(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	tests := []struct {
		name, env, val string
		during         int
	}{
		{"untuned", "", "", startupGCPercent},
		{"GOGC set", "GOGC", "100", 100},
		{"GOMEMLIMIT set", "GOMEMLIMIT", "1GiB", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOGC", "")
			t.Setenv("GOMEMLIMIT", "")
			if tt.env != "" {
				t.Setenv(tt.env, tt.val)
			}
			debug.SetGCPercent(100)
			restore := raiseGCForStartup()
			during := debug.SetGCPercent(-1)
			debug.SetGCPercent(during)
			restore()
			after := debug.SetGCPercent(100)
			if during != tt.during || after != 100 {
				t.Fatalf("percentage during start-up %d (want %d), after %d (want 100)", during, tt.during, after)
			}
		})
	}
}
