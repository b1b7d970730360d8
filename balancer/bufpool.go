package balancer

import "sync"

// tunnelBufSize is the copy buffer of a tunnel direction (taken from the pool only while bytes are in flight)
// and of a proxied response.
const tunnelBufSize = 32 << 10

var tunnelBufs = sync.Pool{New: func() any { b := make([]byte, tunnelBufSize); return &b }}

// proxyBufferPool lends the reverse proxy its response copy buffers (otherwise it allocates 32 KB, a large
// object, for every proxied request, e.g. every long-polling GET and POST).
type proxyBufferPool struct{}

func (proxyBufferPool) Get() []byte  { return *(tunnelBufs.Get().(*[]byte)) }
func (proxyBufferPool) Put(b []byte) { tunnelBufs.Put(&b) }
