package runtime

import (
	"crypto/sha256"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// DefaultProgramCacheEntries bounds the process-wide cache of compiled modules; beyond it modules are compiled
// per load and not cached.
const DefaultProgramCacheEntries = 8192

// programCache holds compiled CommonJS modules shared by every Loop of the process (goja programs are immutable
// and may run in many runtimes), keyed by path and source hash, so the second worker of a host starts without
// recompiling Express and friends.
var programCache struct {
	sync.Mutex
	m map[[sha256.Size]byte]*goja.Program
}

var programCacheHits, programCacheMisses atomic.Int64

// ProgramCacheStats reports compiled-module cache hits and misses since the process started.
func ProgramCacheStats() (hits, misses int64) {
	return programCacheHits.Load(), programCacheMisses.Load()
}

// compileModule compiles a CommonJS source (already BOM/shebang-stripped) wrapped in the module function, with
// the engine workarounds applied, reusing a cached program when the same path had the same source before.
func compileModule(path string, src []byte) (*goja.Program, error) {
	h := sha256.New()
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(src)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	programCache.Lock()
	prg, ok := programCache.m[key]
	programCache.Unlock()
	if ok {
		programCacheHits.Add(1)
		return prg, nil
	}
	programCacheMisses.Add(1)
	code := rewriteUnicodeProps(string(src))
	ast, err := parser.ParseFile(nil, path, moduleWrapperPrefix+code+"\n})", 0)
	if err != nil {
		return nil, err
	}
	prg, err = goja.CompileAST(ast, false)
	if err != nil {
		return nil, err
	}
	programCache.Lock()
	if programCache.m == nil {
		programCache.m = map[[sha256.Size]byte]*goja.Program{}
	}
	if len(programCache.m) < DefaultProgramCacheEntries {
		programCache.m[key] = prg
	}
	programCache.Unlock()
	return prg, nil
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
			data, err := l.fsys.ReadFile(pj)
			if err != nil {
				return ""
			}
			var meta struct {
				Main string `json:"main"`
			}
			if json.Unmarshal(data, &meta) != nil || meta.Main == "" {
				return ""
			}
			for _, cand := range []string{meta.Main, meta.Main + ".js", filepath.Join(meta.Main, "index.js")} {
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
