//go:build !unix

package balancer

import (
	"io"
	"net"
)

// pump copies src to dst until src ends or fails.
func pump(dst, src net.Conn) { _, _ = io.Copy(dst, src) }
