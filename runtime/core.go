package runtime

import (
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/buffer"
	"github.com/dop251/goja_nodejs/url"
)

//go:embed js/*.js
var jsSources embed.FS

// coreWrapperPrefix wraps the embedded core module sources.
const coreWrapperPrefix = "(function (exports, require, module, internal) { "

var hrtimeOrigin = time.Now()

// The embedded core modules are compiled once per process and shared by every Loop. A Loop compiles a module
// when it first requires it (as Node loads its built-ins on first require), while background goroutines started
// by the first Loop (startCoreCompile) compile the others beside it, largest first, so a worker's start-up
// spends the compile on otherwise idle cores. Each module has its own sync.Once: whoever comes first compiles
// it, the others wait for that result, nothing is compiled twice.

// coreProgram is one embedded module's compiled program.
type coreProgram struct {
	name string
	size int
	once sync.Once
	prg  *goja.Program
	err  error
}

// get compiles the module on first use (or waits for the goroutine compiling it) and returns the program.
func (c *coreProgram) get() (*goja.Program, error) {
	c.once.Do(func() {
		src, err := jsSources.ReadFile("js/" + c.name + ".js")
		if err != nil {
			c.err = fmt.Errorf("runtime: read core module %s: %w", c.name, err)
			return
		}
		c.prg, err = goja.Compile("node:"+c.name, coreWrapperPrefix+string(src)+"\n})", true)
		if err != nil {
			c.err = fmt.Errorf("runtime: compile core module %s: %w", c.name, err)
		}
	})
	return c.prg, c.err
}

// coreSet is every embedded module by name.
type coreSet struct {
	mods       map[string]*coreProgram
	bySize     []*coreProgram // largest first: the order background goroutines take them in
	err        error          // listing the embedded files failed
	next       atomic.Int64   // index into bySize of the next module a helper takes
	background sync.Once
}

// newCoreSet lists the embedded modules without compiling them.
func newCoreSet() *coreSet {
	cs := &coreSet{mods: map[string]*coreProgram{}}
	entries, err := jsSources.ReadDir("js")
	if err != nil {
		cs.err = fmt.Errorf("runtime: list core modules: %w", err)
		return cs
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			cs.err = fmt.Errorf("runtime: list core modules: %w", err)
			return cs
		}
		c := &coreProgram{name: strings.TrimSuffix(e.Name(), ".js"), size: int(info.Size())}
		cs.mods[c.name] = c
		cs.bySize = append(cs.bySize, c)
	}
	sort.Slice(cs.bySize, func(i, j int) bool { return cs.bySize[i].size > cs.bySize[j].size })
	return cs
}

// startBackground starts, once, max(1, GOMAXPROCS-1) goroutines that compile every module not yet compiled
// (the Loop that needs a module compiles it itself when no goroutine has taken it yet). It returns at once.
func (cs *coreSet) startBackground() {
	cs.background.Do(func() {
		for range max(1, goruntime.GOMAXPROCS(0)-1) {
			go cs.help()
		}
	})
}

// help compiles modules, largest first, until every module has been taken by a helper.
func (cs *coreSet) help() {
	for {
		i := int(cs.next.Add(1) - 1)
		if i >= len(cs.bySize) {
			return
		}
		_, _ = cs.bySize[i].get()
	}
}

// all compiles every module (in parallel: the caller helps the background goroutines) and returns the programs.
func (cs *coreSet) all() (map[string]*goja.Program, error) {
	if cs.err != nil {
		return nil, cs.err
	}
	cs.startBackground()
	cs.help()
	out := make(map[string]*goja.Program, len(cs.mods))
	for _, c := range cs.bySize {
		prg, err := c.get()
		if err != nil {
			return nil, err
		}
		out[c.name] = prg
	}
	return out, nil
}

// coreModules is the process's set of embedded modules.
var coreModules = sync.OnceValue(newCoreSet)

// compileCore compiles every embedded module (in parallel) and returns the programs; the module cache's
// prefetcher calls it so a worker with a manifest finds the core ready.
func compileCore() (map[string]*goja.Program, error) { return coreModules().all() }

// jsModule returns a loader that runs the embedded module c with internal as its native half.
func (l *Loop) jsModule(c *coreProgram, internal func() *goja.Object) func(*goja.Runtime, *goja.Object) {
	return func(vm *goja.Runtime, module *goja.Object) {
		prg, err := c.get()
		if err != nil {
			l.throwGo(err)
		}
		fnv, err := vm.RunProgram(prg)
		if err != nil {
			panic(err)
		}
		fn, _ := goja.AssertFunction(fnv)
		in := vm.NewObject()
		if internal != nil {
			in = internal()
		}
		coreRequire := vm.ToValue(func(call goja.FunctionCall) goja.Value {
			id := call.Argument(0).String()
			v, ok, err := l.coreModule(id)
			if err != nil {
				l.throwGo(err)
			}
			if !ok {
				l.throw("MODULE_NOT_FOUND", "Error", "Cannot find module '"+id+"'")
			}
			return v
		})
		if _, err := fn(goja.Undefined(), module.Get("exports"), coreRequire, module, in); err != nil {
			panic(err)
		}
	}
}

// object builds a plain JS object from Go values.
func (l *Loop) object(m map[string]any) *goja.Object {
	o := l.vm.NewObject()
	for k, v := range m {
		_ = o.Set(k, v)
	}
	return o
}

func (l *Loop) installGlobals() error {
	cs := coreModules()
	if cs.err != nil {
		return cs.err
	}
	cs.startBackground()
	vm := l.vm
	l.cache = vm.NewObject()
	natives := map[string]func() *goja.Object{
		"timers":  func() *goja.Object { return l.object(l.timerNatives()) },
		"process": l.processNatives,
		"console": func() *goja.Object { return l.object(map[string]any{"write": l.write}) },
		"fs":      func() *goja.Object { return l.addStreamNatives(l.fsNatives()) },
		"crypto": func() *goja.Object {
			o := l.cryptoNatives()
			l.addHashFastPaths(o)
			return o
		},
		"zlib": l.zlibNatives,
		"buffer": func() *goja.Object {
			m := vm.NewObject()
			_ = m.Set("exports", vm.NewObject())
			buffer.Require(vm, m)
			o := vm.NewObject()
			_ = o.Set("base", m.Get("exports"))
			_ = o.Set("utf8Bytes", func(c goja.FunctionCall) goja.Value {
				return vm.ToValue(vm.NewArrayBuffer([]byte(c.Argument(0).String())))
			})
			_ = o.Set("utf8Length", func(c goja.FunctionCall) goja.Value {
				return vm.ToValue(len(c.Argument(0).String()))
			})
			return o
		},
		"url": func() *goja.Object {
			m := vm.NewObject()
			ex := vm.NewObject()
			_ = m.Set("exports", ex)
			url.Require(vm, m)
			return ex
		},
	}
	for name, c := range cs.mods {
		l.natives[name] = l.jsModule(c, natives[name])
	}
	l.natives["os"] = l.osModule
	return l.guard(func() error {
		g := vm.GlobalObject()
		_ = g.Set("global", g)
		_ = g.Set("globalThis", g)
		if err := l.installStackTrace(); err != nil {
			return err
		}
		get := func(id string) *goja.Object {
			v, _, err := l.coreModule(id)
			if err != nil {
				panic(err)
			}
			return v.ToObject(vm)
		}
		buf := get("buffer")
		_ = g.Set("Buffer", buf.Get("Buffer"))
		timers := get("timers")
		for _, n := range []string{"setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval", "clearImmediate"} {
			_ = g.Set(n, timers.Get(n))
		}
		proc := get("process")
		l.process = proc
		_ = g.Set("process", proc)
		_ = g.Set("console", get("console"))
		u := get("url")
		_ = g.Set("URL", u.Get("URL"))
		_ = g.Set("URLSearchParams", u.Get("URLSearchParams"))
		util := get("util")
		_ = g.Set("TextEncoder", util.Get("TextEncoder"))
		_ = g.Set("TextDecoder", util.Get("TextDecoder"))
		qm, err := vm.RunString(`(function (report) {
			return function queueMicrotask(cb) {
				if (typeof cb !== 'function') {
					var e = new TypeError('The "callback" argument must be of type function. Received ' + typeof cb);
					e.code = 'ERR_INVALID_ARG_TYPE';
					throw e;
				}
				Promise.resolve().then(function () { try { cb(); } catch (e) { report(e); } });
			};
		})`)
		if err != nil {
			return err
		}
		mk, _ := goja.AssertFunction(qm)
		report := func(call goja.FunctionCall) goja.Value {
			v := call.Argument(0)
			l.reportError(&JSError{Message: v.String(), Stack: stackOf(v), Value: v})
			return goja.Undefined()
		}
		qmFn, err := mk(goja.Undefined(), vm.ToValue(report))
		if err != nil {
			return err
		}
		_ = g.Set("queueMicrotask", qmFn)
		return nil
	})
}

func (l *Loop) write(fd int, s string) {
	w := l.opts.Stdout
	if fd == 2 {
		w = l.opts.Stderr
	}
	_, _ = io.WriteString(w, s)
}

func (l *Loop) processNatives() *goja.Object {
	vm := l.vm
	argv := vm.NewArray()
	for i, a := range l.opts.Argv {
		_ = argv.Set(strconv.Itoa(i), a)
	}
	env := vm.NewObject()
	keys := make([]string, 0, len(l.opts.Env))
	for k := range l.opts.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_ = env.Set(k, l.opts.Env[k])
	}
	exe, _ := os.Executable()
	m := l.timerNatives()
	return l.object(map[string]any{
		"nextTick": m["nextTick"],
		"platform": goruntime.GOOS,
		"arch":     nodeArch(),
		"pid":      os.Getpid(),
		"ppid":     os.Getppid(),
		"execPath": exe,
		"argv":     argv,
		"env":      env,
		"cwd": func() string {
			d, err := os.Getwd()
			if err != nil {
				return l.opts.AppDir
			}
			return d
		},
		"uptime": func() float64 { return time.Since(l.started).Seconds() },
		"hrtime": func() []int64 {
			d := time.Since(hrtimeOrigin) + time.Hour
			return []int64{int64(d / time.Second), int64(d % time.Second)}
		},
		"memoryUsage": func() map[string]any {
			var ms goruntime.MemStats
			goruntime.ReadMemStats(&ms)
			return map[string]any{"rss": ms.Sys, "heapTotal": ms.HeapSys, "heapUsed": ms.HeapAlloc, "external": 0, "arrayBuffers": 0}
		},
		"exit": func(code int) {
			if l.opts.OnExit != nil {
				l.opts.OnExit(code)
				return
			}
			l.log.Warn("process.exit called in a worker; ignored", "code", code)
		},
		"write": l.write,
	})
}

// nodeArch maps GOARCH to Node's process.arch names.
func nodeArch() string {
	switch goruntime.GOARCH {
	case "amd64":
		return "x64"
	case "386":
		return "ia32"
	}
	return goruntime.GOARCH
}

func (l *Loop) fsNatives() *goja.Object {
	vm := l.vm
	check := func(err error) {
		if err != nil {
			l.throwGo(err)
		}
	}
	return l.object(map[string]any{
		"readFile": func(p string) goja.ArrayBuffer {
			data, err := l.fsys.ReadFile(p)
			check(err)
			return vm.NewArrayBuffer(data)
		},
		"writeFile": func(p string, data goja.ArrayBuffer, appendMode bool) {
			check(l.fsys.WriteFile(p, data.Bytes(), appendMode))
		},
		// stat takes and builds goja values directly: send/express.static calls it twice per request.
		"stat": func(c goja.FunctionCall) goja.Value {
			fi, err := l.fsys.Stat(c.Argument(0).String(), c.Argument(1).ToBoolean())
			check(err)
			kind := "file"
			if fi.isDir {
				kind = "dir"
			} else if fi.isLink {
				kind = "link"
			}
			mode := uint32(fi.mode.Perm())
			switch {
			case fi.isDir:
				mode |= 0o040000
			case fi.isLink:
				mode |= 0o120000
			default:
				mode |= 0o100000
			}
			o := vm.NewObject()
			_ = o.Set("kind", kind)
			_ = o.Set("size", fi.size)
			_ = o.Set("mode", mode)
			_ = o.Set("mtimeMs", float64(fi.modTime.UnixNano())/1e6)
			return o
		},
		"exists": func(p string) bool {
			_, err := l.fsys.Stat(p, false)
			return err == nil
		},
		"readdir": func(p string) []string {
			names, err := l.fsys.ReadDir(p)
			check(err)
			return names
		},
		"mkdir": func(p string, recursive bool) {
			check(l.fsys.Mkdir(p, recursive))
		},
		"remove": func(p string) {
			check(l.fsys.Remove(p))
		},
	})
}

// osModule is a small `os` for code that asks for hostname, EOL or platform.
func (l *Loop) osModule(vm *goja.Runtime, module *goja.Object) {
	host, _ := os.Hostname()
	ex := module.Get("exports").ToObject(vm)
	_ = ex.Set("EOL", "\n")
	_ = ex.Set("hostname", func() string { return host })
	_ = ex.Set("platform", func() string { return goruntime.GOOS })
	_ = ex.Set("type", func() string { return "Linux" })
	_ = ex.Set("arch", func() string { return nodeArch() })
	_ = ex.Set("tmpdir", func() string { return os.TempDir() })
	_ = ex.Set("homedir", func() string { d, _ := os.UserHomeDir(); return d })
	_ = ex.Set("cpus", func() []map[string]any {
		out := make([]map[string]any, goruntime.NumCPU())
		for i := range out {
			out[i] = map[string]any{"model": "cpu", "speed": 0, "times": map[string]int{"user": 0, "nice": 0, "sys": 0, "idle": 0, "irq": 0}}
		}
		return out
	})
	_ = ex.Set("uptime", func() float64 { return time.Since(l.started).Seconds() })
	_ = ex.Set("loadavg", func() []float64 { return []float64{0, 0, 0} })
	_ = ex.Set("totalmem", func() uint64 { var ms goruntime.MemStats; goruntime.ReadMemStats(&ms); return ms.Sys })
	_ = ex.Set("freemem", func() uint64 { return 0 })
	_ = ex.Set("endianness", func() string { return "LE" })
	_ = ex.Set("networkInterfaces", func() map[string]any { return map[string]any{} })
	_ = ex.Set("release", func() string { return "" })
}

// addHashFastPaths adds the calls crypto.js uses for the common cases of Hash.update and Hash.digest (a UTF-8
// string, a Uint8Array; a base64 or hex digest) without a Buffer in between or reflection on the argument.
func (l *Loop) addHashFastPaths(o *goja.Object) {
	vm := l.vm
	hashOf := func(v goja.Value) hash.Hash {
		h, ok := v.Export().(hash.Hash)
		if !ok {
			l.throw("ERR_INVALID_ARG_TYPE", "TypeError", "invalid hash handle")
		}
		return h
	}
	_ = o.Set("updateString", func(c goja.FunctionCall) goja.Value {
		_, _ = io.WriteString(hashOf(c.Argument(0)), c.Argument(1).String())
		return goja.Undefined()
	})
	_ = o.Set("updateBytes", func(c goja.FunctionCall) goja.Value {
		h := hashOf(c.Argument(0))
		b, ok := c.Argument(1).Export().([]byte)
		if !ok {
			b = bytesArg(vm, c.Argument(1))
		}
		_, _ = h.Write(b)
		return goja.Undefined()
	})
	_ = o.Set("digestString", func(c goja.FunctionCall) goja.Value {
		sum := hashOf(c.Argument(0)).Sum(nil)
		switch c.Argument(1).String() {
		case "hex":
			return vm.ToValue(hex.EncodeToString(sum))
		case "base64url":
			return vm.ToValue(base64.RawURLEncoding.EncodeToString(sum))
		default:
			return vm.ToValue(base64.StdEncoding.EncodeToString(sum))
		}
	})
}
