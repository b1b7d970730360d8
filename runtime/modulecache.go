package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The host-wide module cache.
//
// goja cannot share compiled code between processes: a *goja.Program has no exported fields and no
// marshalling API (its instructions are Go values holding pointers into the compiler's output), and the
// parser's AST (goja/ast) has no serialised form either. What a worker process can take from an earlier one is
// knowledge: which files its start-up loads, in which order. A ModuleCache keeps that per app as a manifest in a
// directory shared by the workers of a host; a new worker reads it and compiles the listed modules on background
// goroutines (Prefetch) while its loop resolves and runs module bodies, so parse and compile leave the loop's
// critical path. The loop only ever uses a program compiled from the bytes it read itself (programCache is keyed
// by rewrite version, path and source hash), so a stale or forged manifest costs CPU, never correctness, and the
// prefetcher reads through the app's os.Root like require does, so a manifest cannot reach outside the app.

// Defaults of the module cache.
const (
	// ModuleCacheEnv names the environment variable that carries the cache directory from the master to its
	// workers ("off" disables the cache; empty means DefaultModuleCacheDir).
	ModuleCacheEnv = "SOCKETCLUSTER_MODULE_CACHE"
	// ModuleCacheOff is the ModuleCacheEnv / --moduleCache value that disables the cache.
	ModuleCacheOff = "off"
	// DefaultManifestEntries bounds the modules one manifest lists.
	DefaultManifestEntries = 4096
	// DefaultManifestBytes bounds a manifest file; larger ones are ignored.
	DefaultManifestBytes = 2 << 20
	// DefaultModuleCacheFiles bounds the manifests kept in one cache directory (one per app directory); the
	// least recently written are removed beyond it.
	DefaultModuleCacheFiles = 64
	// manifestFormat versions the manifest layout.
	manifestFormat = 1
	manifestSuffix = ".json"
)

// ErrModuleCache wraps module-cache failures (they never stop a worker: callers log them and go on).
var ErrModuleCache = errors.New("module cache")

// manifest is the file a ModuleCache keeps per app directory.
type manifest struct {
	Format  int      `json:"format"`
	Engine  string   `json:"engine"` // engineVersion(): goja module version and rewriteVersion
	AppDir  string   `json:"appDir"`
	Modules []string `json:"modules"` // paths relative to AppDir, in first-load order
}

// ModuleCache is a directory of start-up manifests shared by the worker processes of a host.
type ModuleCache struct {
	dir string
	log *slog.Logger
}

// DefaultModuleCacheDir is <user cache dir>/socketcluster/modules.
func DefaultModuleCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrModuleCache, err)
	}
	return filepath.Join(base, "socketcluster", "modules"), nil
}

// OpenModuleCache opens (creating it, mode 0700) the cache directory dir; "" means DefaultModuleCacheDir.
// A nil logger means slog.Default().
func OpenModuleCache(dir string, log *slog.Logger) (*ModuleCache, error) {
	if log == nil {
		log = slog.Default()
	}
	if dir == "" {
		d, err := DefaultModuleCacheDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModuleCache, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModuleCache, err)
	}
	return &ModuleCache{dir: dir, log: log.With("component", "modcache")}, nil
}

// Dir is the cache directory.
func (c *ModuleCache) Dir() string { return c.dir }

var engineVersion = sync.OnceValue(func() string {
	v := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/dop251/goja" {
				v = d.Version
				if d.Replace != nil {
					v = d.Replace.Path + "@" + d.Replace.Version
				}
			}
		}
	}
	return fmt.Sprintf("goja %s rewrite %d", v, rewriteVersion)
})

// canonicalAppDir is the app directory as New makes it (absolute, symlinks resolved).
func canonicalAppDir(appDir string) (string, error) {
	dir, err := filepath.Abs(appDir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return dir, nil
}

// manifestPath names the manifest of an app directory.
func (c *ModuleCache) manifestPath(appDir string) string {
	sum := sha256.Sum256([]byte(appDir))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:16])+manifestSuffix)
}

// readManifest returns the module list recorded for appDir; nil when there is none or it cannot be used (the
// reason is logged at Debug).
func (c *ModuleCache) readManifest(appDir string) []string {
	p := c.manifestPath(appDir)
	f, err := os.Open(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log.Debug("manifest unreadable", "file", p, "err", err)
		}
		return nil
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, DefaultManifestBytes+1)); err != nil {
		c.log.Debug("manifest unreadable", "file", p, "err", err)
		return nil
	}
	if buf.Len() > DefaultManifestBytes {
		c.log.Debug("manifest ignored: too large", "file", p)
		return nil
	}
	var m manifest
	switch err := json.Unmarshal(buf.Bytes(), &m); {
	case err != nil:
		c.log.Debug("manifest ignored: corrupt", "file", p, "err", err)
		return nil
	case m.Format != manifestFormat || m.Engine != engineVersion():
		c.log.Debug("manifest ignored: other version", "file", p, "format", m.Format, "engine", m.Engine)
		return nil
	case m.AppDir != appDir:
		c.log.Debug("manifest ignored: other app", "file", p, "app", m.AppDir)
		return nil
	case len(m.Modules) > DefaultManifestEntries:
		c.log.Debug("manifest ignored: too many modules", "file", p, "modules", len(m.Modules))
		return nil
	}
	return m.Modules
}

// Prefetcher compiles a manifest's modules in the background; see ModuleCache.Prefetch.
type Prefetcher struct {
	quit atomic.Bool
	wg   sync.WaitGroup
}

// Wait blocks until the prefetcher has compiled everything it was given.
func (p *Prefetcher) Wait() { p.wg.Wait() }

// Stop makes the prefetcher's goroutines finish the module they are compiling and waits for them.
func (p *Prefetcher) Stop() {
	p.quit.Store(true)
	p.wg.Wait()
}

// Prefetch starts compiling, in the background, the embedded core modules and the modules the manifest of
// appDir lists, into the process-wide program cache, with up to GOMAXPROCS goroutines taking the modules in
// load order. It returns at once. Call it before the worker's Loop loads the app; without a usable manifest it
// only compiles the core.
func (c *ModuleCache) Prefetch(appDir string) *Prefetcher {
	p := &Prefetcher{}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t0 := time.Now()
		_, _ = compileCore()
		c.log.Debug("core modules ready", "after", time.Since(t0))
	}()
	dir, err := canonicalAppDir(appDir)
	if err != nil {
		c.log.Debug("prefetch skipped", "err", err)
		return p
	}
	mods := c.readManifest(dir)
	if len(mods) == 0 {
		return p
	}
	fsys, err := newAppFS(dir, nil)
	if err != nil {
		c.log.Debug("prefetch skipped", "err", err)
		return p
	}
	var next atomic.Int64
	var running sync.WaitGroup
	for range min(goruntime.GOMAXPROCS(0), len(mods)) {
		running.Add(1)
		go func() {
			defer running.Done()
			for !p.quit.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(mods) {
					return
				}
				prefetchOne(fsys, filepath.Join(dir, filepath.FromSlash(mods[i])))
			}
		}()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		running.Wait()
		fsys.close()
	}()
	return p
}

// prefetchOne compiles one module as load would, through the app root (a JSON module only when jsonAsProgram
// allows); failures are left for the loop to meet.
func prefetchOne(fsys *appFS, path string) {
	if !fsys.inside(path) {
		return
	}
	src, err := fsys.ReadFile(path)
	if err != nil {
		return
	}
	compile := compileSource
	if isModuleSource(path) {
		src = moduleSource(src)
	} else {
		src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
		if !jsonAsProgram(src) {
			return
		}
		compile = compileJSON
	}
	if _, hit, err := cachedCompile(path, src, true, compile); err == nil && !hit {
		loadStats.prefetched.Add(1)
	}
}

// isModuleSource reports files load compiles (everything but .json).
func isModuleSource(path string) bool { return !strings.HasSuffix(path, ".json") }

// moduleSource strips a BOM and comments out a shebang line, as load does before compiling.
func moduleSource(src []byte) []byte {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(src, []byte("#!")) {
		src = append([]byte("//"), src[2:]...)
	}
	return src
}

// loaded records the modules Loops of this process compiled, in first-load order, for Record.
var loaded struct {
	sync.Mutex
	seen  map[string]bool
	order []string
}

// noteLoaded records that a Loop loaded the module source at path.
func noteLoaded(path string) {
	loaded.Lock()
	defer loaded.Unlock()
	if loaded.seen[path] || len(loaded.order) >= DefaultManifestEntries {
		return
	}
	if loaded.seen == nil {
		loaded.seen = map[string]bool{}
	}
	loaded.seen[path] = true
	loaded.order = append(loaded.order, path)
}

// Record writes the manifest of appDir: the modules under it that Loops of this process have loaded so far, in
// order. It writes nothing when the manifest already says the same. Concurrent writers (the workers of a host
// finishing their start-up together) are safe: each writes a temporary file and renames it over the manifest.
func (c *ModuleCache) Record(appDir string) error {
	dir, err := canonicalAppDir(appDir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrModuleCache, err)
	}
	loaded.Lock()
	var mods []string
	for _, p := range loaded.order {
		r, err := filepath.Rel(dir, p)
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
			continue
		}
		mods = append(mods, filepath.ToSlash(r))
	}
	loaded.Unlock()
	if len(mods) == 0 || slices.Equal(mods, c.readManifest(dir)) {
		return nil
	}
	data, err := json.Marshal(manifest{Format: manifestFormat, Engine: engineVersion(), AppDir: dir, Modules: mods})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrModuleCache, err)
	}
	if err := writeAtomic(c.manifestPath(dir), data); err != nil {
		return fmt.Errorf("%w: %w", ErrModuleCache, err)
	}
	c.log.Debug("manifest written", "app", dir, "modules", len(mods))
	c.prune()
	return nil
}

// writeAtomic writes data to a temporary file beside path and renames it over path.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".manifest-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// prune keeps the DefaultModuleCacheFiles most recently written manifests and removes temporary files a killed
// writer left behind (older than a minute).
func (c *ModuleCache) prune() {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	type file struct {
		name string
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		switch {
		case strings.HasSuffix(e.Name(), ".tmp") && time.Since(info.ModTime()) > time.Minute:
			_ = os.Remove(filepath.Join(c.dir, e.Name()))
		case strings.HasSuffix(e.Name(), manifestSuffix):
			files = append(files, file{e.Name(), info.ModTime()})
		}
	}
	if len(files) <= DefaultModuleCacheFiles {
		return
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.After(files[j].mod) })
	for _, f := range files[DefaultModuleCacheFiles:] {
		_ = os.Remove(filepath.Join(c.dir, f.name))
	}
}
