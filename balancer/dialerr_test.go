package balancer

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestIsDialError(t *testing.T) {
	dial := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"refused", dial(syscall.ECONNREFUSED), true},
		{"out of descriptors here", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)}, false},
		{"system out of descriptors", dial(syscall.ENFILE), false},
		{"read error", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, false},
		{"other", errors.New("x"), false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isDialError(tc.err); got != tc.want {
				t.Fatalf("isDialError(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
