package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// appFS is the file view of require and fs: the app directory through an os.Root (so neither ".." nor symlinks
// escape it) plus overlay files that show only where no real file exists.
type appFS struct {
	dir     string
	root    *os.Root
	overlay map[string][]byte          // clean absolute path -> content
	dirs    map[string]map[string]bool // overlay directories -> child names
	lookups lookupCache                // what require's resolution learnt about the tree (lookupcache.go)
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
	f.lookups.invalidate()
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
	f.lookups.invalidate()
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
	f.lookups.invalidate()
	r, err := f.rel(abs)
	if err != nil {
		return newPathError("unlink", abs, err)
	}
	if err := f.root.Remove(r); err != nil {
		return newPathError("unlink", abs, err)
	}
	return nil
}

// isFile reports whether abs is a file (real or overlay; anything but a directory) inside the app dir. While a
// lookup window is open (beginLookups) the answer may come from the lookup cache.
func (f *appFS) isFile(abs string) bool {
	if k, ok := f.cachedKind(abs); ok {
		return k == kindFile
	}
	fi, err := f.Stat(abs, false)
	return err == nil && !fi.isDir
}

// isDir reports whether abs is a directory (real or overlay) inside the app dir; see isFile.
func (f *appFS) isDir(abs string) bool {
	if k, ok := f.cachedKind(abs); ok {
		return k == kindDir
	}
	fi, err := f.Stat(abs, false)
	return err == nil && fi.isDir
}

// The lookup cache. Resolving one require probes many paths (each node_modules directory up the tree; x, x.js,
// x.json, x.cjs, x/package.json, x/index.js, ...), and every probe through the os.Root opens each directory of the
// path again. While a lookup window is open (beginLookups .. endLookups: the outermost require and everything it
// loads synchronously, the span for which Node keeps its own stat cache) the appFS lists each directory it probes
// once and answers probes of its entries from the listing; it also keeps the package.json files resolution
// decoded. Listings are taken through the root (Root.Open), and an entry that is a symlink is stat'ed through the
// root, so the cache only repeats answers the root gave: a path the root refuses (a symlink out of the app) stays
// refused. Writes through the appFS (fs.writeFile, mkdir, unlink) drop the cache; the window's end drops it too,
// so a require made later (in a request handler) sees the disk as it is then.

// DefaultLookupDirs bounds the directories one lookup window keeps listings of; beyond it probes go to the root.
const DefaultLookupDirs = 4096

// entryKind is what a probe found at a path.
type entryKind uint8

const (
	kindMissing entryKind = iota // no such file (ENOENT): overlay files may stand in
	kindFile                     // anything but a directory
	kindDir
	kindRefused // exists but the root refuses or cannot stat it (a symlink out of the app, ENOTDIR, EACCES)
)

// dirListing is one directory as the root listed it.
type dirListing struct {
	kind    entryKind              // of the directory itself
	entries map[string]fs.FileMode // name -> type bits (fs.ModeDir, fs.ModeSymlink, ...)
}

// lookupCache holds what require's probes learnt during one lookup window.
type lookupCache struct {
	mu    sync.Mutex
	depth int
	dirs  map[string]*dirListing // clean absolute directory path -> listing
	links map[string]entryKind   // symlink entries, as the root's Stat resolved them
	pkgs  map[string]*pkgMeta    // directory -> its decoded package.json (nil: none)
	// hits and misses count probes answered from listings and probes that had to list a directory (tests).
	hits, misses int
}

// beginLookups opens (or nests) a lookup window.
func (f *appFS) beginLookups() {
	c := &f.lookups
	c.mu.Lock()
	c.depth++
	c.mu.Unlock()
}

// endLookups closes a window; the outermost close drops everything the window learnt.
func (f *appFS) endLookups() {
	c := &f.lookups
	c.mu.Lock()
	if c.depth > 0 {
		c.depth--
	}
	if c.depth == 0 {
		c.dirs, c.links, c.pkgs = nil, nil, nil
	}
	c.mu.Unlock()
}

// invalidate drops what the current window learnt (the tree was written to); the window stays open.
func (c *lookupCache) invalidate() {
	c.mu.Lock()
	c.dirs, c.links, c.pkgs = nil, nil, nil
	c.mu.Unlock()
}

// cachedKind answers isFile/isDir from the lookup cache; ok is false outside a window or when the path is not
// inside the app (the caller's own check then refuses it).
func (f *appFS) cachedKind(abs string) (entryKind, bool) {
	c := &f.lookups
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.depth == 0 {
		return 0, false
	}
	abs = filepath.Clean(abs)
	if !f.inside(abs) {
		return 0, false
	}
	k := f.probe(abs)
	if k == kindMissing {
		if _, ok := f.overlay[abs]; ok {
			return kindFile, true
		}
		if f.dirs[abs] != nil {
			return kindDir, true
		}
	}
	return k, true
}

// probe reports what the root holds at abs (clean, inside the app), listing its parent directory if needed.
// c.mu is held.
func (f *appFS) probe(abs string) entryKind {
	if abs == f.dir {
		return kindDir
	}
	parent := f.listing(filepath.Dir(abs))
	if parent == nil {
		return f.statKind(abs)
	}
	if parent.kind != kindDir {
		if parent.kind == kindMissing {
			return kindMissing
		}
		return kindRefused
	}
	mode, ok := parent.entries[filepath.Base(abs)]
	c := &f.lookups
	switch {
	case !ok:
		c.hits++
		return kindMissing
	case mode&fs.ModeSymlink != 0:
		if k, ok := c.links[abs]; ok {
			c.hits++
			return k
		}
		k := f.statKind(abs)
		if c.links == nil {
			c.links = map[string]entryKind{}
		}
		c.links[abs] = k
		return k
	case mode.IsDir():
		c.hits++
		return kindDir
	}
	c.hits++
	return kindFile
}

// statKind asks the root about abs (following symlinks inside the app, refusing ones that leave it).
func (f *appFS) statKind(abs string) entryKind {
	r, err := f.rel(abs)
	if err != nil {
		return kindRefused
	}
	fi, err := f.root.Stat(r)
	switch {
	case err == nil && fi.IsDir():
		return kindDir
	case err == nil:
		return kindFile
	case errors.Is(err, fs.ErrNotExist):
		return kindMissing
	}
	return kindRefused
}

// listing returns the listing of dir (clean, inside the app), taking it through the root on first use; nil when
// the window already holds DefaultLookupDirs listings. c.mu is held.
func (f *appFS) listing(dir string) *dirListing {
	c := &f.lookups
	if d, ok := c.dirs[dir]; ok {
		return d
	}
	if len(c.dirs) >= DefaultLookupDirs {
		return nil
	}
	d := &dirListing{kind: kindMissing}
	// A directory whose parent has no entry of that name cannot be opened: answer without a syscall.
	if dir != f.dir {
		switch f.probe(dir) {
		case kindMissing:
			f.storeListing(dir, d)
			return d
		case kindFile, kindRefused:
			d.kind = kindRefused
			f.storeListing(dir, d)
			return d
		}
	}
	c.misses++
	r, err := f.rel(dir)
	if err != nil {
		d.kind = kindRefused
		f.storeListing(dir, d)
		return d
	}
	fh, err := f.root.Open(r)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.kind = kindRefused
		}
		f.storeListing(dir, d)
		return d
	}
	entries, err := fh.ReadDir(-1)
	_ = fh.Close()
	if err != nil {
		// Not a directory (a symlink to a file), or unreadable: no listing; probes below it are refused.
		d.kind = kindRefused
		f.storeListing(dir, d)
		return d
	}
	d.kind = kindDir
	d.entries = make(map[string]fs.FileMode, len(entries))
	for _, e := range entries {
		d.entries[e.Name()] = e.Type()
	}
	f.storeListing(dir, d)
	return d
}

func (f *appFS) storeListing(dir string, d *dirListing) {
	c := &f.lookups
	if c.dirs == nil {
		c.dirs = map[string]*dirListing{}
	}
	c.dirs[dir] = d
}

// cachedPackage returns the package.json of dir that resolution decoded earlier in this window; known is false
// outside a window or on first use.
func (f *appFS) cachedPackage(dir string) (meta *pkgMeta, known bool) {
	c := &f.lookups
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.depth == 0 {
		return nil, false
	}
	meta, known = c.pkgs[dir]
	return meta, known
}

// storePackage remembers dir's package.json (nil: none) for the rest of the window.
func (f *appFS) storePackage(dir string, meta *pkgMeta) {
	c := &f.lookups
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.depth == 0 || len(c.pkgs) >= DefaultLookupDirs {
		return
	}
	if c.pkgs == nil {
		c.pkgs = map[string]*pkgMeta{}
	}
	c.pkgs[dir] = meta
}
