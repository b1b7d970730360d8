//go:build windows

package cluster

import "syscall"

// childSysProcAttr: Windows has neither process groups in this sense nor a
// parent-death signal; a child notices a dead master by the end of its
// stdin.
func childSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
