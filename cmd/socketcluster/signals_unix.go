//go:build unix

package main

import (
	"os"
	"syscall"
)

// rebootSignals reboot the workers one at a time (rebootOnSignal).
var rebootSignals = []os.Signal{syscall.SIGUSR2}
