package runtime

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/dop251/goja"
)

// maxInflatedSize bounds one synchronous or buffered decompression (zip-bomb guard), like Node's maxOutputLength.
const maxInflatedSize = 256 << 20

// ErrInflatedTooLarge is returned when decompressed data would exceed maxInflatedSize.
var ErrInflatedTooLarge = errors.New("runtime: decompressed data exceeds the output limit")

var hashConstructors = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224, "sha256": sha256.New,
	"sha384": sha512.New384, "sha512": sha512.New, "sha512-256": sha512.New512_256,
	"rsa-md5": md5.New, "rsa-sha1": sha1.New, "rsa-sha256": sha256.New, "rsa-sha512": sha512.New,
}

// bytesArg copies the bytes of a Buffer/Uint8Array/ArrayBuffer argument.
func bytesArg(vm *goja.Runtime, v goja.Value) []byte {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	if ab, ok := v.Export().(goja.ArrayBuffer); ok {
		return ab.Bytes()
	}
	var b []byte
	if err := vm.ExportTo(v, &b); err != nil {
		return []byte(v.String())
	}
	return b
}

func (l *Loop) cryptoNatives() *goja.Object {
	vm := l.vm
	newHash := func(alg string, key []byte, isHMAC bool) hash.Hash {
		mk, ok := hashConstructors[alg]
		if !ok {
			l.throw("ERR_OSSL_EVP_UNSUPPORTED", "Error", "Digest method not supported")
		}
		if isHMAC {
			return hmac.New(mk, key)
		}
		return mk()
	}
	return l.object(map[string]any{
		"hashes": func() []string {
			out := make([]string, 0, len(hashConstructors))
			for k := range hashConstructors {
				out = append(out, k)
			}
			return out
		},
		"newHash": func(c goja.FunctionCall) goja.Value {
			h := newHash(c.Argument(0).String(), nil, false)
			return vm.ToValue(h)
		},
		"newHmac": func(c goja.FunctionCall) goja.Value {
			h := newHash(c.Argument(0).String(), bytesArg(vm, c.Argument(1)), true)
			return vm.ToValue(h)
		},
		"update": func(c goja.FunctionCall) goja.Value {
			h, ok := c.Argument(0).Export().(hash.Hash)
			if !ok {
				l.throw("ERR_INVALID_ARG_TYPE", "TypeError", "invalid hash handle")
			}
			h.Write(bytesArg(vm, c.Argument(1)))
			return goja.Undefined()
		},
		"digest": func(c goja.FunctionCall) goja.Value {
			h, ok := c.Argument(0).Export().(hash.Hash)
			if !ok {
				l.throw("ERR_INVALID_ARG_TYPE", "TypeError", "invalid hash handle")
			}
			return vm.ToValue(vm.NewArrayBuffer(h.Sum(nil)))
		},
		"randomBytes": func(n int) goja.ArrayBuffer {
			if n < 0 || n > 1<<31-1 {
				l.throw("ERR_OUT_OF_RANGE", "RangeError", fmt.Sprintf("The value of \"size\" is out of range. Received %d", n))
			}
			b := make([]byte, n)
			_, _ = rand.Read(b)
			return vm.NewArrayBuffer(b)
		},
		"randomUUID": newUUIDv4,
		"timingSafeEqual": func(c goja.FunctionCall) goja.Value {
			a, b := bytesArg(vm, c.Argument(0)), bytesArg(vm, c.Argument(1))
			return vm.ToValue(subtle.ConstantTimeCompare(a, b) == 1)
		},
	})
}

func newUUIDv4() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// zlib formats.
const (
	formatGzip    = "gzip"
	formatDeflate = "deflate" // zlib wrapper
	formatRaw     = "raw"
)

// compressor is a streaming compressor: input in, compressed bytes out as they are produced.
type compressor struct {
	buf bytes.Buffer
	w   interface {
		io.WriteCloser
		Flush() error
	}
}

func newCompressor(format string, level int) (*compressor, error) {
	c := &compressor{}
	if level < -1 || level > 9 {
		level = -1
	}
	var err error
	switch format {
	case formatGzip:
		c.w, err = gzip.NewWriterLevel(&c.buf, level)
	case formatDeflate:
		c.w, err = zlib.NewWriterLevel(&c.buf, level)
	case formatRaw:
		c.w, err = flate.NewWriter(&c.buf, level)
	default:
		err = fmt.Errorf("runtime: unknown zlib format %q", format)
	}
	return c, err
}

func (c *compressor) take() []byte {
	out := bytes.Clone(c.buf.Bytes())
	c.buf.Reset()
	return out
}

// inflate decompresses a whole input of the given format ("unzip" detects gzip or zlib).
func inflate(format string, in []byte) ([]byte, error) {
	var r io.Reader
	var err error
	if format == "unzip" {
		format = formatDeflate
		if len(in) >= 2 && in[0] == 0x1f && in[1] == 0x8b {
			format = formatGzip
		}
	}
	switch format {
	case formatGzip:
		var gr *gzip.Reader
		gr, err = gzip.NewReader(bytes.NewReader(in))
		if gr != nil {
			r = gr
		}
	case formatDeflate:
		r, err = zlib.NewReader(bytes.NewReader(in))
	case formatRaw:
		r = flate.NewReader(bytes.NewReader(in))
	default:
		err = fmt.Errorf("runtime: unknown zlib format %q", format)
	}
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, maxInflatedSize+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxInflatedSize {
		return nil, ErrInflatedTooLarge
	}
	return out, nil
}

func (l *Loop) zlibNatives() *goja.Object {
	vm := l.vm
	zerr := func(err error) {
		code := "Z_DATA_ERROR"
		if errors.Is(err, ErrInflatedTooLarge) {
			code = "ERR_BUFFER_TOO_LARGE"
		}
		l.throw(code, "Error", err.Error())
	}
	comp := func(v goja.Value) *compressor {
		c, ok := v.Export().(*compressor)
		if !ok {
			l.throw("ERR_INVALID_ARG_TYPE", "TypeError", "invalid compressor handle")
		}
		return c
	}
	return l.object(map[string]any{
		"compressSync": func(c goja.FunctionCall) goja.Value {
			z, err := newCompressor(c.Argument(0).String(), int(c.Argument(2).ToInteger()))
			if err != nil {
				zerr(err)
			}
			_, _ = z.w.Write(bytesArg(vm, c.Argument(1)))
			_ = z.w.Close()
			return vm.ToValue(vm.NewArrayBuffer(z.take()))
		},
		"inflateSync": func(c goja.FunctionCall) goja.Value {
			out, err := inflate(c.Argument(0).String(), bytesArg(vm, c.Argument(1)))
			if err != nil {
				zerr(err)
			}
			return vm.ToValue(vm.NewArrayBuffer(out))
		},
		"newCompressor": func(c goja.FunctionCall) goja.Value {
			z, err := newCompressor(c.Argument(0).String(), int(c.Argument(1).ToInteger()))
			if err != nil {
				zerr(err)
			}
			return vm.ToValue(z)
		},
		"compressWrite": func(c goja.FunctionCall) goja.Value {
			z := comp(c.Argument(0))
			_, _ = z.w.Write(bytesArg(vm, c.Argument(1)))
			return vm.ToValue(vm.NewArrayBuffer(z.take()))
		},
		"compressFlush": func(c goja.FunctionCall) goja.Value {
			z := comp(c.Argument(0))
			_ = z.w.Flush()
			return vm.ToValue(vm.NewArrayBuffer(z.take()))
		},
		"compressEnd": func(c goja.FunctionCall) goja.Value {
			z := comp(c.Argument(0))
			_ = z.w.Close()
			return vm.ToValue(vm.NewArrayBuffer(z.take()))
		},
	})
}
