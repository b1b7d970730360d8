//go:build unix && !linux

package cluster

import "syscall"

// childSysProcAttr puts a child in its own process group. Without Linux's
// parent-death signal, a child notices a dead master by the end of its
// stdin.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
