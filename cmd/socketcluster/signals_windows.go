//go:build windows

package main

import "os"

// rebootSignals: Windows has no SIGUSR2; use killWorkers() from a master
// script instead.
var rebootSignals []os.Signal
