package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// appFS is the file view of require and fs: the app directory through an os.Root (so neither ".." nor symlinks
// escape it) plus overlay files that show only where no real file exists.
type appFS struct {
	dir     string
	root    *os.Root
	overlay map[string][]byte          // clean absolute path -> content
	dirs    map[string]map[string]bool // overlay directories -> child names
}

// pathError is a Node-shaped file error.
type pathError struct {
	code    string // ENOENT, EACCES, ...
	errno   int
	syscall string
	path    string
	err     error
}

func (e *pathError) Error() string {
	return fmt.Sprintf("%s: %s, %s '%s'", e.code, errnoText(e.code), e.syscall, e.path)
}
func (e *pathError) Unwrap() error { return e.err }

func errnoText(code string) string {
	switch code {
	case "ENOENT":
		return "no such file or directory"
	case "EACCES":
		return "permission denied"
	case "EISDIR":
		return "illegal operation on a directory"
	case "ENOTDIR":
		return "not a directory"
	case "EEXIST":
		return "file already exists"
	case "ENOTEMPTY":
		return "directory not empty"
	}
	return "i/o error"
}

var errnos = map[string]int{"ENOENT": -2, "EACCES": -13, "EISDIR": -21, "ENOTDIR": -20, "EEXIST": -17, "ENOTEMPTY": -39, "EIO": -5}

func newPathError(syscall, path string, err error) *pathError {
	code := "EIO"
	msg := err.Error()
	switch {
	case errors.Is(err, ErrOutsideAppDir):
		code = "EACCES"
	case errors.Is(err, fs.ErrNotExist):
		code = "ENOENT"
	case errors.Is(err, fs.ErrPermission):
		code = "EACCES"
	case errors.Is(err, fs.ErrExist):
		code = "EEXIST"
	case strings.Contains(msg, "is a directory"):
		code = "EISDIR"
	case strings.Contains(msg, "not a directory"):
		code = "ENOTDIR"
	case strings.Contains(msg, "directory not empty"):
		code = "ENOTEMPTY"
	case strings.Contains(msg, "path escapes"):
		code = "EACCES"
	}
	return &pathError{code: code, errno: errnos[code], syscall: syscall, path: path, err: err}
}

func newAppFS(dir string, overlay map[string][]byte) (*appFS, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("runtime: open app dir: %w", err)
	}
	f := &appFS{dir: dir, root: root, overlay: map[string][]byte{}, dirs: map[string]map[string]bool{}}
	for p, data := range overlay {
		p = filepath.Clean(p)
		if !filepath.IsAbs(p) {
			continue
		}
		f.overlay[p] = data
		for child := p; ; {
			parent := filepath.Dir(child)
			if parent == child {
				break
			}
			if f.dirs[parent] == nil {
				f.dirs[parent] = map[string]bool{}
			}
			f.dirs[parent][filepath.Base(child)] = true
			child = parent
		}
	}
	return f, nil
}

func (f *appFS) close() {
	if f.root != nil {
		_ = f.root.Close()
	}
}

// rel turns an absolute path into one relative to the app dir, refusing paths outside it.
func (f *appFS) rel(abs string) (string, error) {
	abs = filepath.Clean(abs)
	if !filepath.IsAbs(abs) {
		return "", fmt.Errorf("%w: %s is not absolute", ErrOutsideAppDir, abs)
	}
	r, err := filepath.Rel(f.dir, abs)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: %s is outside %s", ErrOutsideAppDir, abs, f.dir)
	}
	return r, nil
}

// inside reports whether abs lies within the app dir.
func (f *appFS) inside(abs string) bool {
	_, err := f.rel(abs)
	return err == nil
}

func (f *appFS) ReadFile(abs string) ([]byte, error) {
	r, err := f.rel(abs)
	if err != nil {
		return nil, newPathError("open", abs, err)
	}
	data, err := f.root.ReadFile(r)
	if err == nil {
		return data, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if d, ok := f.overlay[filepath.Clean(abs)]; ok {
			return d, nil
		}
		if f.dirs[filepath.Clean(abs)] != nil {
			return nil, newPathError("read", abs, errors.New("is a directory"))
		}
	}
	return nil, newPathError("open", abs, err)
}

// fileInfo is what stat reports.
type fileInfo struct {
	size    int64
	mode    fs.FileMode
	modTime time.Time
	isDir   bool
	isLink  bool
}

var overlayTime = time.Unix(0, 0)

func (f *appFS) Stat(abs string, lstat bool) (fileInfo, error) {
	r, err := f.rel(abs)
	if err != nil {
		return fileInfo{}, newPathError("stat", abs, err)
	}
	var fi fs.FileInfo
	if lstat {
		fi, err = f.root.Lstat(r)
	} else {
		fi, err = f.root.Stat(r)
	}
	if err == nil {
		return fileInfo{size: fi.Size(), mode: fi.Mode(), modTime: fi.ModTime(), isDir: fi.IsDir(), isLink: fi.Mode()&fs.ModeSymlink != 0}, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		c := filepath.Clean(abs)
		if d, ok := f.overlay[c]; ok {
			return fileInfo{size: int64(len(d)), mode: 0o444, modTime: overlayTime}, nil
		}
		if f.dirs[c] != nil {
			return fileInfo{mode: fs.ModeDir | 0o555, modTime: overlayTime, isDir: true}, nil
		}
	}
	return fileInfo{}, newPathError("stat", abs, err)
}

func (f *appFS) ReadDir(abs string) ([]string, error) {
	r, err := f.rel(abs)
	if err != nil {
		return nil, newPathError("scandir", abs, err)
	}
	names := map[string]bool{}
	d, err := f.root.Open(r)
	if err == nil {
		entries, rerr := d.ReadDir(-1)
		_ = d.Close()
		if rerr != nil {
			return nil, newPathError("scandir", abs, rerr)
		}
		for _, e := range entries {
			names[e.Name()] = true
		}
	}
	virt := f.dirs[filepath.Clean(abs)]
	if err != nil && virt == nil {
		return nil, newPathError("scandir", abs, err)
	}
	for n := range virt {
		names[n] = true
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (f *appFS) WriteFile(abs string, data []byte, appendMode bool) error {
	r, err := f.rel(abs)
	if err != nil {
		return newPathError("open", abs, err)
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendMode {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	fh, err := f.root.OpenFile(r, flag, 0o666)
	if err != nil {
		return newPathError("open", abs, err)
	}
	if _, err := fh.Write(data); err != nil {
		_ = fh.Close()
		return newPathError("write", abs, err)
	}
	if err := fh.Close(); err != nil {
		return newPathError("close", abs, err)
	}
	return nil
}

func (f *appFS) Mkdir(abs string, recursive bool) error {
	r, err := f.rel(abs)
	if err != nil {
		return newPathError("mkdir", abs, err)
	}
	if recursive {
		err = f.root.MkdirAll(r, 0o777)
	} else {
		err = f.root.Mkdir(r, 0o777)
	}
	if err != nil {
		return newPathError("mkdir", abs, err)
	}
	return nil
}

func (f *appFS) Remove(abs string) error {
	r, err := f.rel(abs)
	if err != nil {
		return newPathError("unlink", abs, err)
	}
	if err := f.root.Remove(r); err != nil {
		return newPathError("unlink", abs, err)
	}
	return nil
}

// isFile reports whether abs is a regular file (real or overlay) inside the app dir.
func (f *appFS) isFile(abs string) bool {
	fi, err := f.Stat(abs, false)
	return err == nil && !fi.isDir
}

func (f *appFS) isDir(abs string) bool {
	fi, err := f.Stat(abs, false)
	return err == nil && fi.isDir
}
