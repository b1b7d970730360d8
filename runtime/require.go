package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// moduleWrapperPrefix wraps CommonJS sources; it stays on line 1 so line numbers are unchanged.
const moduleWrapperPrefix = "(function (exports, require, module, __filename, __dirname) { "

// ModuleError is a require failure with Node's error code (MODULE_NOT_FOUND, ERR_ACCESS_DENIED,
// ERR_PACKAGE_PATH_NOT_EXPORTED, ERR_INVALID_ARG_TYPE).
type ModuleError struct {
	Code    string
	Message string
	Err     error // ErrModuleNotFound or ErrOutsideAppDir
}

func (e *ModuleError) Error() string { return e.Message }
func (e *ModuleError) Unwrap() error { return e.Err }

// RegisterModule registers a native core module, loadable as name and "node:"+name. Call before Start or on the
// loop goroutine. The loader fills module.exports (or replaces it).
func (l *Loop) RegisterModule(name string, loader func(vm *goja.Runtime, module *goja.Object)) {
	l.natives[strings.TrimPrefix(name, "node:")] = loader
}

// Require loads a module as if required from a file in AppDir ("./worker.js", "events", "pkg"). Loop goroutine only.
func (l *Loop) Require(id string) (ret goja.Value, err error) {
	err = l.guard(func() error {
		v, err := l.requireFrom(id, l.opts.AppDir, filepath.Join(l.opts.AppDir, "<go>"))
		ret = v
		return err
	})
	return ret, err
}

// RequireFile loads the module at absPath (normally the user's worker.js) and returns its module.exports as an
// object. The first file loaded this way becomes require.main. A syntax error returns an error wrapping ErrSyntax
// naming file:line:col. Loop goroutine only.
func (l *Loop) RequireFile(absPath string) (exports *goja.Object, err error) {
	err = l.guard(func() error {
		l.fsys.beginLookups()
		defer l.fsys.endLookups()
		abs, err := filepath.Abs(absPath)
		if err != nil {
			return err
		}
		if !l.fsys.inside(abs) {
			return &ModuleError{Code: "ERR_ACCESS_DENIED", Err: ErrOutsideAppDir,
				Message: fmt.Sprintf("Cannot load module '%s': it is outside the app directory %s", abs, l.opts.AppDir)}
		}
		if !l.fsys.isFile(abs) {
			return &ModuleError{Code: "MODULE_NOT_FOUND", Err: ErrModuleNotFound, Message: fmt.Sprintf("Cannot find module '%s'", abs)}
		}
		v, err := l.load(abs, l.mainMod == nil)
		if err != nil {
			return err
		}
		exports = v.ToObject(l.vm)
		return nil
	})
	return exports, err
}

// guard runs fn catching JS exceptions thrown by goja helpers and converting goja errors.
func (l *Loop) guard(fn func() error) (err error) {
	var inner error
	if ex := l.vm.Try(func() { inner = fn() }); ex != nil {
		return l.convertError(ex)
	}
	if inner != nil {
		var me *ModuleError
		if errors.As(inner, &me) || errors.Is(inner, ErrSyntax) {
			return inner
		}
		return l.convertError(inner)
	}
	return nil
}

// requireFrom resolves and loads id for a module living in dir (file names the requiring module).
func (l *Loop) requireFrom(id, dir, file string) (goja.Value, error) {
	if v, ok, err := l.coreModule(id); ok || err != nil {
		return v, err
	}
	l.fsys.beginLookups()
	defer l.fsys.endLookups()
	t0 := time.Now()
	path, err := l.resolve(id, dir, file)
	since(&loadStats.resolve, t0)
	if err != nil {
		return nil, err
	}
	return l.load(path, false)
}

// coreModule returns a core module's exports.
func (l *Loop) coreModule(id string) (goja.Value, bool, error) {
	name := strings.TrimPrefix(id, "node:")
	if m, ok := l.core[name]; ok {
		return m.Get("exports"), true, nil
	}
	loader, ok := l.natives[name]
	if !ok {
		if strings.HasPrefix(id, "node:") {
			return nil, false, &ModuleError{Code: "ERR_UNKNOWN_BUILTIN_MODULE", Err: ErrModuleNotFound, Message: "No such built-in module: " + id}
		}
		return nil, false, nil
	}
	mod := l.vm.NewObject()
	_ = mod.Set("id", name)
	_ = mod.Set("exports", l.vm.NewObject())
	_ = mod.Set("loaded", false)
	l.core[name] = mod
	var err error
	if ex := l.vm.Try(func() { loader(l.vm, mod) }); ex != nil {
		delete(l.core, name)
		err = ex
	}
	if err != nil {
		return nil, true, err
	}
	_ = mod.Set("loaded", true)
	return mod.Get("exports"), true, nil
}

// load runs (or returns from cache) the module at an absolute, resolved path.
func (l *Loop) load(path string, isMain bool) (goja.Value, error) {
	if cached := l.cache.Get(path); cached != nil && !goja.IsUndefined(cached) {
		if o, ok := cached.(*goja.Object); ok {
			return o.Get("exports"), nil
		}
	}
	t0 := time.Now()
	src, err := l.fsys.ReadFile(path)
	since(&loadStats.read, t0)
	if err != nil {
		return nil, &ModuleError{Code: "MODULE_NOT_FOUND", Err: ErrModuleNotFound, Message: fmt.Sprintf("Cannot find module '%s'", path)}
	}
	dir := filepath.Dir(path)
	mod := l.vm.NewObject()
	id := path
	if isMain {
		id = "."
		l.mainMod = mod
	}
	_ = mod.Set("id", id)
	_ = mod.Set("path", dir)
	_ = mod.Set("filename", path)
	_ = mod.Set("loaded", false)
	_ = mod.Set("children", l.vm.NewArray())
	_ = mod.Set("paths", l.vm.NewArray())
	exports := l.vm.NewObject()
	_ = mod.Set("exports", exports)
	req := l.makeRequire(mod, dir, path)
	_ = mod.Set("require", req)
	_ = l.cache.Set(path, mod)

	fail := func(err error) (goja.Value, error) {
		_ = l.cache.Delete(path)
		return nil, err
	}
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	if strings.HasSuffix(path, ".json") {
		t0 := time.Now()
		v, err := l.jsonModule(path, src)
		since(&loadStats.json, t0)
		if err != nil {
			return fail(&JSError{Message: "SyntaxError: " + path + ": " + strings.TrimPrefix(l.convertError(err).Error(), "SyntaxError: ")})
		}
		noteLoaded(path)
		_ = mod.Set("exports", v)
		_ = mod.Set("loaded", true)
		return v, nil
	}
	src = moduleSource(src)
	prg, err := compileModule(path, src)
	if err != nil {
		if alt := l.legacyMain(path); alt != "" && unsupportedSyntax(err) {
			// The engine lacks syntax the "exports" target uses: load the package's legacy main instead.
			_ = l.cache.Delete(path)
			v, altErr := l.load(alt, false)
			if altErr == nil {
				_ = l.cache.Set(path, l.cache.Get(alt))
			}
			return v, altErr
		}
		return fail(syntaxError(path, err))
	}
	noteLoaded(path)
	fnv, err := l.vm.RunProgram(prg)
	if err != nil {
		return fail(l.convertError(err))
	}
	fn, _ := goja.AssertFunction(fnv)
	_, err = fn(exports, exports, req, mod, l.vm.ToValue(path), l.vm.ToValue(dir))
	if err != nil {
		var ie *goja.InterruptedError
		var so *goja.StackOverflowError
		if errors.As(err, &ie) || errors.As(err, &so) {
			return fail(err)
		}
		return fail(err)
	}
	_ = mod.Set("loaded", true)
	return mod.Get("exports"), nil
}

// jsonModule decodes a JSON module: by running the program the prefetcher compiled for exactly this text
// (jsonAsProgram), else with JSON.parse.
func (l *Loop) jsonModule(path string, src []byte) (goja.Value, error) {
	if prg := cachedProgram(path, src); prg != nil {
		if v, err := l.vm.RunProgram(prg); err == nil {
			loadStats.jsonPrefetched.Add(1)
			return v, nil
		}
	}
	parse, _ := goja.AssertFunction(l.vm.Get("JSON").ToObject(l.vm).Get("parse"))
	return parse(goja.Undefined(), l.vm.ToValue(string(src)))
}

func syntaxError(path string, err error) error {
	line, col, msg := 0, 0, err.Error()
	var se *goja.CompilerSyntaxError
	var pl parser.ErrorList
	var pe *parser.Error
	switch {
	case errors.As(err, &pl) && len(pl) > 0:
		line, col, msg = pl[0].Position.Line, pl[0].Position.Column, pl[0].Message
	case errors.As(err, &pe):
		line, col, msg = pe.Position.Line, pe.Position.Column, pe.Message
	case errors.As(err, &se) && se.File != nil:
		pos := se.File.Position(se.Offset)
		line, col, msg = pos.Line, pos.Column, se.Message
	default:
		return fmt.Errorf("%w: %s: %v", ErrSyntax, path, err)
	}
	if line == 1 {
		col -= len(moduleWrapperPrefix)
		if col < 1 {
			col = 1
		}
	}
	return fmt.Errorf("%w: %s:%d:%d: %s", ErrSyntax, path, line, col, msg)
}

// makeRequire builds the require function of one module.
func (l *Loop) makeRequire(mod *goja.Object, dir, file string) *goja.Object {
	vm := l.vm
	req := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		idv := call.Argument(0)
		if _, ok := idv.Export().(string); !ok {
			l.throw("ERR_INVALID_ARG_TYPE", "TypeError", "The \"id\" argument must be of type string. Received "+describe(idv))
		}
		id := idv.String()
		if id == "" {
			l.throw("ERR_INVALID_ARG_VALUE", "TypeError", "The argument 'id' must be a non-empty string. Received ''")
		}
		v, err := l.requireFrom(id, dir, file)
		if err != nil {
			l.throwGo(err)
		}
		return v
	}).ToObject(vm)
	_ = req.Set("resolve", func(call goja.FunctionCall) goja.Value {
		id := call.Argument(0).String()
		if _, ok := l.natives[strings.TrimPrefix(id, "node:")]; ok {
			return vm.ToValue(id)
		}
		l.fsys.beginLookups()
		p, err := l.resolve(id, dir, file)
		l.fsys.endLookups()
		if err != nil {
			l.throwGo(err)
		}
		return vm.ToValue(p)
	})
	_ = req.Set("cache", l.cache)
	if l.mainMod != nil {
		_ = req.Set("main", l.mainMod)
	} else if mod != nil {
		_ = req.Set("main", mod)
	}
	return req
}

// throw raises a JS error of the given constructor with a Node error code. It panics (goja's way to throw).
func (l *Loop) throw(code, ctor, msg string) {
	panic(l.newError(code, ctor, msg))
}

func (l *Loop) newError(code, ctor, msg string) *goja.Object {
	c, ok := goja.AssertConstructor(l.vm.Get(ctor))
	if !ok {
		c, _ = goja.AssertConstructor(l.vm.Get("Error"))
	}
	o, err := c(nil, l.vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	if code != "" {
		_ = o.Set("code", code)
	}
	return o
}

// throwGo throws a Go error from require/fs into JS.
func (l *Loop) throwGo(err error) {
	var me *ModuleError
	var pe *pathError
	var je *JSError
	var ex *goja.Exception
	switch {
	case errors.As(err, &ex):
		panic(ex)
	case errors.As(err, &me):
		l.throw(me.Code, "Error", me.Message)
	case errors.Is(err, ErrSyntax):
		l.throw("", "SyntaxError", strings.TrimPrefix(err.Error(), ErrSyntax.Error()+": "))
	case errors.As(err, &pe):
		panic(l.fsError(pe))
	case errors.As(err, &je):
		if je.Value != nil {
			panic(je.Value)
		}
		l.throw("", "Error", je.Message)
	default:
		var ie *goja.InterruptedError
		var so *goja.StackOverflowError
		if errors.As(err, &ie) || errors.As(err, &so) {
			panic(err)
		}
		l.throw("", "Error", err.Error())
	}
}

func (l *Loop) fsError(pe *pathError) *goja.Object {
	o := l.newError(pe.code, "Error", pe.Error())
	_ = o.Set("errno", pe.errno)
	_ = o.Set("syscall", pe.syscall)
	_ = o.Set("path", pe.path)
	return o
}

// resolve implements Node's resolution for id required from file in dir, confined to AppDir.
func (l *Loop) resolve(id, dir, file string) (string, error) {
	notFound := func() error {
		return &ModuleError{Code: "MODULE_NOT_FOUND", Err: ErrModuleNotFound,
			Message: fmt.Sprintf("Cannot find module '%s'\nRequire stack:\n- %s", id, file)}
	}
	if isPathLike(id) {
		abs := id
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(dir, id)
		}
		abs = filepath.Clean(abs)
		if !l.fsys.inside(abs) {
			return "", &ModuleError{Code: "ERR_ACCESS_DENIED", Err: ErrOutsideAppDir,
				Message: fmt.Sprintf("Cannot load module '%s' required from %s: %s is outside the app directory %s", id, file, abs, l.opts.AppDir)}
		}
		if p, ok := l.loadAsFile(abs); ok {
			return p, nil
		}
		if p, ok := l.loadAsDir(abs); ok {
			return p, nil
		}
		return "", notFound()
	}
	pkg, sub := splitPackage(id)
	if pkg == "" {
		return "", notFound()
	}
	start := dir
	if !l.fsys.inside(start) {
		start = l.opts.AppDir
	}
	for d := start; ; {
		if filepath.Base(d) != "node_modules" {
			nm := filepath.Join(d, "node_modules")
			if p, ok, err := l.resolvePackage(nm, pkg, sub, id); err != nil {
				return "", err
			} else if ok {
				return p, nil
			}
		}
		if d == l.opts.AppDir {
			break
		}
		parent := filepath.Dir(d)
		if parent == d || !l.fsys.inside(parent) {
			break
		}
		d = parent
	}
	return "", notFound()
}

func isPathLike(id string) bool {
	return id == "." || id == ".." || strings.HasPrefix(id, "./") || strings.HasPrefix(id, "../") || strings.HasPrefix(id, "/")
}

// splitPackage splits "pkg/sub/path" or "@scope/pkg/sub" into the package name and "/sub/path" (or "").
func splitPackage(id string) (pkg, sub string) {
	parts := strings.Split(id, "/")
	n := 1
	if strings.HasPrefix(id, "@") {
		n = 2
	}
	if len(parts) < n || parts[0] == "" || (n == 2 && parts[1] == "") {
		return "", ""
	}
	pkg = strings.Join(parts[:n], "/")
	if len(parts) > n {
		sub = "/" + strings.Join(parts[n:], "/")
	}
	return pkg, sub
}

func (l *Loop) resolvePackage(nm, pkg, sub, id string) (string, bool, error) {
	pkgDir := filepath.Join(nm, pkg)
	if !l.fsys.isDir(pkgDir) {
		return "", false, nil
	}
	if meta, ok := l.resolutionMeta(pkgDir); ok && meta.exports != nil {
		target, found := exportsTarget(meta.exports, "."+sub)
		if !found {
			return "", false, &ModuleError{Code: "ERR_PACKAGE_PATH_NOT_EXPORTED", Err: ErrModuleNotFound,
				Message: fmt.Sprintf("Package subpath '.%s' is not defined by \"exports\" in %s", sub, filepath.Join(pkgDir, "package.json"))}
		}
		p := filepath.Clean(filepath.Join(pkgDir, target))
		if !strings.HasPrefix(p, pkgDir+string(filepath.Separator)) && p != pkgDir {
			return "", false, nil
		}
		if l.fsys.isFile(p) {
			return p, true, nil
		}
		return "", false, nil
	}
	target := filepath.Join(nm, pkg+sub)
	if p, ok := l.loadAsFile(target); ok {
		return p, true, nil
	}
	if p, ok := l.loadAsDir(target); ok {
		return p, true, nil
	}
	return "", false, nil
}

func (l *Loop) loadAsFile(p string) (string, bool) {
	for _, c := range []string{p, p + ".js", p + ".json", p + ".cjs"} {
		if l.fsys.isFile(c) {
			return c, true
		}
	}
	return "", false
}

func (l *Loop) loadIndex(p string) (string, bool) {
	for _, c := range []string{"index.js", "index.json", "index.cjs"} {
		if f := filepath.Join(p, c); l.fsys.isFile(f) {
			return f, true
		}
	}
	return "", false
}

func (l *Loop) loadAsDir(p string) (string, bool) {
	if !l.fsys.isDir(p) {
		return "", false
	}
	if meta, ok := l.resolutionMeta(p); ok && meta.main != "" {
		m := filepath.Join(p, meta.main)
		if l.fsys.inside(m) {
			if f, ok := l.loadAsFile(m); ok {
				return f, true
			}
			if f, ok := l.loadIndex(m); ok {
				return f, true
			}
		}
	}
	return l.loadIndex(p)
}

// resolutionMeta is packageMeta for resolution: inside a lookup window each directory's package.json is read and
// decoded once, and a directory whose listing has no package.json is not asked for one.
func (l *Loop) resolutionMeta(dir string) (*pkgMeta, bool) {
	if meta, known := l.fsys.cachedPackage(dir); known {
		return meta, meta != nil
	}
	var meta *pkgMeta
	if k, ok := l.fsys.cachedKind(filepath.Join(dir, "package.json")); !ok || k == kindFile {
		if m, ok := l.packageMeta(dir); ok {
			meta = m
		}
	}
	l.fsys.storePackage(dir, meta)
	return meta, meta != nil
}

// ordered is a JSON object that keeps its key order (conditions in "exports" are tried in order).
type ordered struct {
	keys []string
	vals map[string]any
}

func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	return decodeValue(dec)
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &ordered{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := o.vals[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.vals[k] = v
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var arr []any
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
	}
	return tok, nil
}

// exportsTarget picks the file for subpath ("." or "./x") from a package "exports" value.
func exportsTarget(exp any, subpath string) (string, bool) {
	if o, ok := exp.(*ordered); ok && len(o.keys) > 0 && strings.HasPrefix(o.keys[0], ".") {
		if v, ok := o.vals[subpath]; ok {
			return conditionTarget(v, "")
		}
		for _, k := range o.keys {
			star := strings.Index(k, "*")
			if star < 0 {
				continue
			}
			pre, suf := k[:star], k[star+1:]
			if strings.HasPrefix(subpath, pre) && strings.HasSuffix(subpath, suf) && len(subpath) >= len(pre)+len(suf) {
				return conditionTarget(o.vals[k], subpath[len(pre):len(subpath)-len(suf)])
			}
		}
		return "", false
	}
	if subpath != "." {
		return "", false
	}
	return conditionTarget(exp, "")
}

func conditionTarget(v any, star string) (string, bool) {
	switch t := v.(type) {
	case string:
		if !strings.HasPrefix(t, "./") {
			return "", false
		}
		return strings.ReplaceAll(t, "*", star), true
	case []any:
		for _, e := range t {
			if s, ok := conditionTarget(e, star); ok {
				return s, true
			}
		}
	case *ordered:
		for _, k := range t.keys {
			if k == "require" || k == "node" || k == "default" {
				if s, ok := conditionTarget(t.vals[k], star); ok {
					return s, true
				}
			}
		}
	}
	return "", false
}
