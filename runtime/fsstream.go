package runtime

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/dop251/goja"
)

// maxReadRange bounds one ranged read (a createReadStream chunk).
const maxReadRange = 1 << 20

// ReadRange reads up to n bytes of abs at offset off (fewer at the end of the file; none past it).
func (f *appFS) ReadRange(abs string, off int64, n int) ([]byte, error) {
	r, err := f.rel(abs)
	if err != nil {
		return nil, newPathError("open", abs, err)
	}
	file, err := f.root.Open(r)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if d, ok := f.overlay[filepath.Clean(abs)]; ok {
				if off >= int64(len(d)) {
					return nil, nil
				}
				end := min(off+int64(n), int64(len(d)))
				return d[off:end], nil
			}
		}
		return nil, newPathError("open", abs, err)
	}
	defer file.Close()
	buf := make([]byte, n)
	got, err := file.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, newPathError("read", abs, err)
	}
	return buf[:got], nil
}

// addStreamNatives adds the native half of fs.createReadStream to the fs internals.
func (l *Loop) addStreamNatives(o *goja.Object) *goja.Object {
	vm := l.vm
	_ = o.Set("readRange", func(p string, off int64, n int) goja.ArrayBuffer {
		if n < 0 || n > maxReadRange {
			n = maxReadRange
		}
		if off < 0 {
			off = 0
		}
		data, err := l.fsys.ReadRange(p, off, n)
		if err != nil {
			l.throwGo(err)
		}
		return vm.NewArrayBuffer(data)
	})
	return o
}
