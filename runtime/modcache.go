package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// DefaultProgramCacheEntries bounds the process-wide cache of compiled modules; beyond it modules are compiled
// per load and not cached.
const DefaultProgramCacheEntries = 8192

// rewriteVersion names the source transformations applied before parsing (the module wrapper and
// rewriteUnicodeProps) and the parser options (2: source maps off). It is part of every cache key and of the module-cache manifest format, so a change to
// either must bump it.
const rewriteVersion = 2

// programCache holds compiled CommonJS modules shared by every Loop of the process (goja programs are immutable
// and may run in many runtimes), keyed by path and source hash, so a second Loop, and the prefetcher working
// ahead of the Loop (modulecache.go), hand programs over without recompiling. inflight marks keys being compiled,
// so a Loop needing a module the prefetcher is compiling waits for it instead of compiling it twice.
var programCache struct {
	sync.Mutex
	m        map[[sha256.Size]byte]*goja.Program
	inflight map[[sha256.Size]byte]chan struct{}
}

var programCacheHits, programCacheMisses atomic.Int64

// ProgramCacheStats reports compiled-module cache hits and misses since the process started.
func ProgramCacheStats() (hits, misses int64) {
	return programCacheHits.Load(), programCacheMisses.Load()
}

// programKey identifies a compiled module: the rewrite version, its path (programs carry the file name in
// stack traces) and a hash of its source.
func programKey(path string, src []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte{rewriteVersion, 0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(src)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}

// compileModule compiles a CommonJS source (already BOM/shebang-stripped) wrapped in the module function, with
// the engine workarounds applied, reusing a cached program when the same path had the same source before.
func compileModule(path string, src []byte) (*goja.Program, error) {
	loadStats.modules.Add(1)
	prg, hit, err := cachedCompile(path, src, false, compileSource)
	if hit {
		programCacheHits.Add(1)
		loadStats.hits.Add(1)
	} else {
		programCacheMisses.Add(1)
	}
	return prg, err
}

// cachedCompile returns the cached program of path/src or compiles and caches it; hit reports a cache hit
// (possibly after waiting for another goroutine compiling the same key). prefetch marks the prefetcher's calls:
// they never wait, so a key already being compiled is skipped.
func cachedCompile(path string, src []byte, prefetch bool, compile func(string, []byte, *phaseTimes) (*goja.Program, error)) (prg *goja.Program, hit bool, err error) {
	key := programKey(path, src)
	waited := false
	for {
		programCache.Lock()
		if prg, ok := programCache.m[key]; ok {
			programCache.Unlock()
			return prg, true, nil
		}
		ch, busy := programCache.inflight[key]
		if !busy || waited {
			break
		}
		programCache.Unlock()
		if prefetch {
			return nil, true, nil
		}
		t0 := time.Now()
		<-ch
		since(&loadStats.waitNanos, t0)
		waited = true // a failed compile is not cached: compile here to get the error
	}
	if programCache.inflight == nil {
		programCache.inflight = map[[sha256.Size]byte]chan struct{}{}
	}
	done := make(chan struct{})
	programCache.inflight[key] = done
	programCache.Unlock()
	defer func() {
		programCache.Lock()
		if programCache.inflight[key] == done {
			delete(programCache.inflight, key)
		}
		programCache.Unlock()
		close(done)
	}()
	if prefetch {
		t0 := time.Now()
		prg, err = compile(path, src, nil)
		since(&loadStats.prefetchNanos, t0)
	} else {
		prg, err = compile(path, src, &loadStats.loopPhases)
	}
	if err != nil {
		return nil, false, err
	}
	programCache.Lock()
	if programCache.m == nil {
		programCache.m = map[[sha256.Size]byte]*goja.Program{}
	}
	if len(programCache.m) < DefaultProgramCacheEntries {
		programCache.m[key] = prg
	}
	programCache.Unlock()
	return prg, false, nil
}

// compileSource applies the engine workarounds, parses and compiles one module source, adding the time of each
// phase to ph (when not nil).
func compileSource(path string, src []byte, ph *phaseTimes) (*goja.Program, error) {
	t0 := time.Now()
	code := rewriteUnicodeProps(string(src))
	t1 := time.Now()
	// Source maps stay off, as in Node without --enable-source-maps: goja would otherwise read the file a
	// "//# sourceMappingURL=" comment names with os.ReadFile, outside the app root, and parse it, per module.
	ast, err := parser.ParseFile(nil, path, moduleWrapperPrefix+code+"\n})", 0, parser.WithDisableSourceMaps)
	t2 := time.Now()
	var prg *goja.Program
	if err == nil {
		prg, err = goja.CompileAST(ast, false)
	}
	if ph != nil {
		ph.rewrite.Add(int64(t1.Sub(t0)))
		ph.parse.Add(int64(t2.Sub(t1)))
		since(&ph.compile, t2)
	}
	return prg, err
}

// maxJSONProgram bounds the JSON texts compiled as programs: an AST costs many times the text's size, and
// beyond this JSON.parse on the loop is the better trade.
const maxJSONProgram = 1 << 20

// cachedProgram returns the compiled program of path/src if the cache holds one (it never compiles or waits).
func cachedProgram(path string, src []byte) *goja.Program {
	key := programKey(path, src)
	programCache.Lock()
	defer programCache.Unlock()
	return programCache.m[key]
}

// JSON modules are decoded with JSON.parse on the loop (7 ms for mime-db's 200 KB db.json, which Express loads).
// The prefetcher can instead compile such a text as a JavaScript expression, whose program the loop then runs in
// about a third of that. Only texts for which both give the same value qualify: valid JSON (a JSON text is then
// a valid expression with the same value) with no "__proto__" key, which a literal would take as the prototype,
// and, to keep that check simple, no \u escape that could spell one.
func jsonAsProgram(src []byte) bool {
	return len(src) <= maxJSONProgram && !bytes.Contains(src, []byte("__proto__")) && !bytes.Contains(src, []byte(`\u`)) && json.Valid(src)
}

// compileJSON compiles a JSON text (jsonAsProgram) as an expression statement yielding its value.
func compileJSON(path string, src []byte, ph *phaseTimes) (*goja.Program, error) {
	t0 := time.Now()
	ast, err := parser.ParseFile(nil, path, "("+string(src)+"\n)", 0, parser.WithDisableSourceMaps)
	t1 := time.Now()
	var prg *goja.Program
	if err == nil {
		prg, err = goja.CompileAST(ast, false)
	}
	if ph != nil {
		ph.parse.Add(int64(t1.Sub(t0)))
		since(&ph.compile, t1)
	}
	return prg, err
}

// unsupportedSyntax reports compile errors caused by syntax goja does not implement (as opposed to broken code).
func unsupportedSyntax(err error) bool {
	return err != nil && strings.Contains(err.Error(), "not supported yet")
}

// legacyMain finds the package.json "main" of the package that owns path, for packages whose "exports" target
// uses syntax the engine lacks (e.g. async generators) but which ship an older entry point for engines without
// "exports" support. It returns "" when there is no different, existing main file.
func (l *Loop) legacyMain(path string) string {
	dir := filepath.Dir(path)
	for i := 0; i < 8 && l.fsys.inside(dir); i++ {
		pj := filepath.Join(dir, "package.json")
		if l.fsys.isFile(pj) {
			meta, ok := l.packageMeta(dir)
			if !ok || meta.main == "" {
				return ""
			}
			for _, cand := range []string{meta.main, meta.main + ".js", filepath.Join(meta.main, "index.js")} {
				p := filepath.Join(dir, cand)
				if p != path && l.fsys.isFile(p) {
					return p
				}
			}
			return ""
		}
		if filepath.Base(filepath.Dir(dir)) == "node_modules" || dir == filepath.Dir(dir) {
			// reached a package root without package.json
			return ""
		}
		dir = filepath.Dir(dir)
	}
	return ""
}
