package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

func appDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs("testdata/app")
	if err != nil {
		t.Fatal(err)
	}
	d, err = filepath.EvalSymlinks(d)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// requireEval requires id through the Go API and evaluates expr with the result bound to `m`.
func requireEval(t *testing.T, h *harness, id, expr string) any {
	t.Helper()
	var out any
	var err error
	h.do(t, func(vm *goja.Runtime) {
		var m goja.Value
		m, err = h.l.Require(id)
		if err != nil {
			return
		}
		_ = vm.Set("m", m)
		var v goja.Value
		v, err = vm.RunString(expr)
		if err == nil {
			out = v.Export()
		}
	})
	if err != nil {
		t.Fatalf("require %s / %s: %v", id, expr, err)
	}
	return out
}

func TestRequireResolution(t *testing.T) {
	h := newHarness(t, Options{})
	dir := appDir(t)
	tests := []struct {
		name, id, expr string
		want           any
	}{
		{"relative", "./lib/a", "m.name + m.b", "ab"},
		{"filename", "./lib/a.js", "m.file", filepath.Join(dir, "lib/a.js")},
		{"dirname", "./lib/a", "m.dir", filepath.Join(dir, "lib")},
		{"json", "./lib/data.json", "m.answer + m.list.length", int64(44)},
		{"json via js", "./lib/a", "m.data.answer", int64(42)},
		{"directory index", "./lib/dir", "m.name", "dir-index"},
		{"index from module", "./lib/a", "m.dirIndex", "dir-index"},
		{"package main", "pkgmain", "m", "pkgmain-entry"},
		{"exports require condition", "pkgexp", "m", "cjs"},
		{"exports subpath", "pkgexp/feature", "m", "feature"},
		{"exports pattern", "pkgexp/sub/x", "m", "sub-x"},
		{"exports string", "pkgstr", "m", "pkgstr-x"},
		{"scoped", "@scope/pkg", "m", "scoped"},
		{"walk up node_modules", "./sub/deep/x", "m", "pkgmain-entry"},
		{"shebang", "./shebang", "m", int64(42)},
		{"module.exports replaced", "./replace", "m()", "replaced"},
		{"absolute", filepath.Join(dir, "lib/b.js"), "m.name", "b"},
		{"core events", "events", "typeof m.EventEmitter", "function"},
		{"core node: prefix", "node:path", "m.sep", "/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := requireEval(t, h, tc.id, tc.expr); got != tc.want {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestRequireFromModule(t *testing.T) {
	h := newHarness(t, Options{})
	dir := appDir(t)
	// load a worker file that exposes its require for the checks below.
	probe := filepath.Join(dir, "probe_require.js")
	if err := os.WriteFile(probe, []byte("module.exports = { require: require, module: module };\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(probe) })
	var res map[string]any
	h.do(t, func(vm *goja.Runtime) {
		ex, err := h.l.RequireFile(probe)
		if err != nil {
			t.Errorf("RequireFile: %v", err)
			return
		}
		_ = vm.Set("p", ex)
		v, err := vm.RunString(`(function () {
			var r = p.require;
			var c1 = r('./counter'), c2 = r('./counter.js');
			var a = r('./cycle/a'), b = r('./cycle/b');
			var out = {
				same: c1 === c2,
				counts: [c1.inc(), c2.inc()].join(','),
				cycleA: a.done + '/' + a.sawBDone,
				cycleB: b.done + '/' + b.sawADone,
				resolve: r.resolve('pkgmain'),
				cached: typeof r.cache[r.resolve('./counter')],
				main: r.main === p.module,
				mainId: p.module.id,
			};
			delete r.cache[r.resolve('./counter')];
			out.reloaded = r('./counter').inc();
			try { r('nope-missing'); } catch (e) { out.missing = e.message; out.code = e.code; }
			try { r('../outside.js'); } catch (e) { out.escape = e.message; out.escapeCode = e.code; }
			try { r('/etc/passwd'); } catch (e) { out.escapeAbs = e.code; }
			try { r('pkgexp/internal.js'); } catch (e) { out.notExported = e.code; }
			try { r('./syntax/bad'); } catch (e) { out.syntax = e.name + ': ' + e.message; }
			try { r('./missing'); } catch (e) { out.nested = e.message; }
			return out;
		})()`)
		if err != nil {
			t.Errorf("probe: %v", err)
			return
		}
		res = v.Export().(map[string]any)
	})
	want := map[string]any{
		"same":        true,
		"counts":      "1,2",
		"cycleA":      "true/true",
		"cycleB":      "true/false",
		"resolve":     filepath.Join(dir, "node_modules/pkgmain/lib/entry.js"),
		"cached":      "object",
		"main":        true,
		"mainId":      ".",
		"reloaded":    int64(1),
		"code":        "MODULE_NOT_FOUND",
		"escapeCode":  "ERR_ACCESS_DENIED",
		"escapeAbs":   "ERR_ACCESS_DENIED",
		"notExported": "ERR_PACKAGE_PATH_NOT_EXPORTED",
	}
	for k, v := range want {
		if res[k] != v {
			t.Errorf("%s = %#v, want %#v", k, res[k], v)
		}
	}
	if m, _ := res["missing"].(string); !strings.Contains(m, "Cannot find module 'nope-missing'") || !strings.Contains(m, probe) {
		t.Errorf("missing message = %q, want module name and requiring file", m)
	}
	if m, _ := res["escape"].(string); !strings.Contains(m, "outside the app directory") {
		t.Errorf("escape message = %q", m)
	}
	if m, _ := res["syntax"].(string); !strings.HasPrefix(m, "SyntaxError: ") || !strings.Contains(m, "bad.js:3:") {
		t.Errorf("syntax message = %q, want SyntaxError naming bad.js:3", m)
	}
	if m, _ := res["nested"].(string); !strings.Contains(m, "Cannot find module './lib/nope'") || !strings.Contains(m, "missing.js") {
		t.Errorf("nested missing message = %q", m)
	}
}

func TestRequireFileErrors(t *testing.T) {
	h := newHarness(t, Options{})
	dir := appDir(t)
	h.do(t, func(vm *goja.Runtime) {
		_, err := h.l.RequireFile(filepath.Join(dir, "syntax/bad.js"))
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "bad.js:3:") {
			t.Errorf("syntax error = %v, want ErrSyntax naming bad.js:3", err)
		}
		_, err = h.l.RequireFile(filepath.Join(dir, "../outside.js"))
		if !errors.Is(err, ErrOutsideAppDir) {
			t.Errorf("outside = %v, want ErrOutsideAppDir", err)
		}
		_, err = h.l.Require("nope")
		var me *ModuleError
		if !errors.As(err, &me) || me.Code != "MODULE_NOT_FOUND" || !errors.Is(err, ErrModuleNotFound) {
			t.Errorf("missing = %#v", err)
		}
		ex, err := h.l.RequireFile(filepath.Join(dir, "worker.js"))
		if err != nil {
			t.Errorf("worker: %v", err)
			return
		}
		run, ok := goja.AssertFunction(ex.Get("run"))
		if !ok {
			t.Error("run is not a function")
			return
		}
		v, err := run(goja.Undefined(), vm.ToValue("w1"))
		if err != nil || v.String() != "ran w1" {
			t.Errorf("run = %v, %v", v, err)
		}
	})
}

func TestRequireSymlinkEscape(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "secret.js"), []byte("module.exports = 'secret';"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "secret.js"), filepath.Join(app, "link.js")); err != nil {
		t.Fatalf("symlink: %v", err)
	}
	h := newHarness(t, Options{AppDir: app})
	h.do(t, func(vm *goja.Runtime) {
		v, err := h.l.Require("./link.js")
		if err == nil {
			t.Errorf("symlink escape loaded %v", v)
		}
	})
}

func TestOverlay(t *testing.T) {
	dir := appDir(t)
	h := newHarness(t, Options{Overlay: map[string][]byte{
		filepath.Join(dir, "node_modules/virt/package.json"): []byte(`{"main": "main.js"}`),
		filepath.Join(dir, "node_modules/virt/main.js"):      []byte("module.exports = 'virtual ' + require('./helper');"),
		filepath.Join(dir, "node_modules/virt/helper.js"):    []byte("module.exports = 'helper';"),
		filepath.Join(dir, "real.js"):                        []byte("module.exports = 'overlay';"),
	}})
	tests := []struct{ id, want string }{
		{"virt", "virtual helper"},
		{"./real", "real"},
	}
	for _, tc := range tests {
		if got := requireEval(t, h, tc.id, "m"); got != tc.want {
			t.Errorf("require(%q) = %#v, want %q", tc.id, got, tc.want)
		}
	}
	got := requireEval(t, h, "fs", `[m.readFileSync('`+filepath.Join(dir, "node_modules/virt/helper.js")+`', 'utf8'),
		m.existsSync('`+filepath.Join(dir, "node_modules/virt")+`'),
		m.readdirSync('`+filepath.Join(dir, "node_modules/virt")+`').join(','),
		m.readFileSync('`+filepath.Join(dir, "real.js")+`', 'utf8').trim()].join('|')`)
	want := "module.exports = 'helper';|true|helper.js,main.js,package.json|module.exports = 'real';"
	if got != want {
		t.Errorf("fs overlay = %q, want %q", got, want)
	}
}
