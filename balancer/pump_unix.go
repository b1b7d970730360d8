//go:build unix

package balancer

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// pump copies src to dst until src ends or fails. An idle direction holds no buffer and no descriptor beyond
// its socket: it waits for readability through the runtime's poller and borrows a pooled buffer only for one
// read and its write. (io.Copy between two TCP connections would splice through a pipe, which holds two more
// descriptors per direction for the connection's whole life.)
func pump(dst, src net.Conn) {
	sc, ok := src.(syscall.Conn)
	if !ok {
		_, _ = io.Copy(dst, src)
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		_, _ = io.Copy(dst, src)
		return
	}
	for {
		var (
			buf  *[]byte
			n    int
			rerr error
		)
		err := rc.Read(func(fd uintptr) bool {
			b := tunnelBufs.Get().(*[]byte)
			for {
				n, rerr = syscall.Read(int(fd), *b)
				if !errors.Is(rerr, syscall.EINTR) {
					break
				}
			}
			if errors.Is(rerr, syscall.EAGAIN) {
				tunnelBufs.Put(b)
				return false // wait for readability
			}
			buf = b
			return true
		})
		if err != nil || rerr != nil || n <= 0 {
			if buf != nil {
				tunnelBufs.Put(buf)
			}
			return // deadline, closed, reset or EOF
		}
		_, werr := dst.Write((*buf)[:n])
		tunnelBufs.Put(buf)
		if werr != nil {
			return
		}
	}
}
