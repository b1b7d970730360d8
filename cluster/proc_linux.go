//go:build linux

package cluster

import "syscall"

// childSysProcAttr puts a child in its own process group (a terminal's
// Ctrl-C reaches only the master, which stops the children in order) and
// asks the kernel to send it SIGTERM when the master dies, even by
// SIGKILL. The death signal is tied to the thread that forked the child,
// so children are started from one locked OS thread (see spawner).
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
