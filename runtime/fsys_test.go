package runtime

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dop251/goja"
)

// writeTree creates files (path relative to root -> content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// realTempDir is a temporary directory with symlinks resolved (the app dir as New canonicalises it).
func realTempDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLookupCacheHits: inside a window, probes of a directory's entries after the first are answered from its
// listing (no further listing), and every answer equals the root's own (Stat) answer; outside a window nothing
// is cached.
func TestLookupCacheHits(t *testing.T) {
	dir := realTempDir(t)
	writeTree(t, dir, map[string]string{
		"node_modules/a/package.json": `{"main":"lib/a.js"}`,
		"node_modules/a/lib/a.js":     "",
		"node_modules/b/index.js":     "",
		"x.js":                        "",
	})
	if err := os.Symlink(filepath.Join(dir, "node_modules", "a"), filepath.Join(dir, "node_modules", "alias")); err != nil {
		t.Fatal(err)
	}
	f, err := newAppFS(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	probes := []string{"x.js", "x", "x.json", "node_modules", "node_modules/a", "node_modules/a/package.json",
		"node_modules/a/lib/a.js", "node_modules/a/lib/a", "node_modules/b/index.js", "node_modules/b/index.json",
		"node_modules/c", "node_modules/c/index.js", "node_modules/c/d/e/f.js", "x.js/y", "node_modules/alias",
		"node_modules/alias/lib/a.js"}
	want := map[string][2]bool{}
	for _, p := range probes {
		abs := filepath.Join(dir, p)
		want[p] = [2]bool{f.isFile(abs), f.isDir(abs)}
	}
	if f.lookups.dirs != nil || f.lookups.hits+f.lookups.misses != 0 {
		t.Fatal("probes outside a window were cached")
	}
	f.beginLookups()
	for round := 0; round < 2; round++ {
		for _, p := range probes {
			abs := filepath.Join(dir, p)
			if got := [2]bool{f.isFile(abs), f.isDir(abs)}; got != want[p] {
				t.Errorf("round %d: %s: cached (file, dir) = %v, root says %v", round, p, got, want[p])
			}
		}
		if round == 0 {
			listed := f.lookups.misses
			defer func() {
				if f.lookups.misses != listed {
					t.Errorf("second round listed %d more directories", f.lookups.misses-listed)
				}
			}()
		}
	}
	if f.lookups.hits == 0 {
		t.Error("no probe was answered from a listing")
	}
	// node_modules/c does not exist: nothing below it may have been listed.
	if d := f.lookups.dirs[filepath.Join(dir, "node_modules/c/d")]; d != nil && d.kind != kindMissing {
		t.Errorf("listing below a missing directory: %+v", d)
	}
	f.endLookups()
	if f.lookups.dirs != nil {
		t.Error("the window's end kept the listings")
	}
}

// TestLookupCacheConfinement: a window answers like the root for symlinks out of the app (refused: neither file
// nor directory, no overlay stand-in) and for paths outside the app, and require through a window refuses them.
func TestLookupCacheConfinement(t *testing.T) {
	root := realTempDir(t)
	app := filepath.Join(root, "app")
	writeTree(t, root, map[string]string{
		"secret.js":              "module.exports = 'secret';",
		"outside/pkg/index.js":   "module.exports = 'outside';",
		"app/main.js":            "",
		"app/node_modules/.keep": "",
	})
	links := map[string]string{
		filepath.Join(app, "link.js"):                filepath.Join(root, "secret.js"),
		filepath.Join(app, "node_modules", "evil"):   filepath.Join(root, "outside", "pkg"),
		filepath.Join(app, "node_modules", "inner"):  "../lib",
		filepath.Join(app, "node_modules", "dotdot"): "../../outside/pkg",
	}
	writeTree(t, app, map[string]string{"lib/index.js": "module.exports = 'inner';"})
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	f, err := newAppFS(app, map[string][]byte{filepath.Join(app, "link.js"): []byte("overlay")})
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	tests := []struct {
		path         string
		file, isADir bool
	}{
		{filepath.Join(app, "link.js"), false, false},
		{filepath.Join(app, "node_modules", "evil"), false, false},
		{filepath.Join(app, "node_modules", "evil", "index.js"), false, false},
		{filepath.Join(app, "node_modules", "dotdot", "index.js"), false, false},
		{filepath.Join(app, "node_modules", "inner", "index.js"), true, false},
		{filepath.Join(app, "node_modules", "inner"), false, true},
		{filepath.Join(root, "secret.js"), false, false},
		{filepath.Join(app, "..", "secret.js"), false, false},
	}
	for _, tc := range tests { // the root's own answers, uncached
		if f.isFile(tc.path) != tc.file || f.isDir(tc.path) != tc.isADir {
			t.Fatalf("root: %s: want file %v dir %v", tc.path, tc.file, tc.isADir)
		}
	}
	f.beginLookups()
	for _, tc := range tests {
		if got := f.isFile(tc.path); got != tc.file {
			t.Errorf("isFile(%s) = %v, want %v", tc.path, got, tc.file)
		}
		if got := f.isDir(tc.path); got != tc.isADir {
			t.Errorf("isDir(%s) = %v, want %v", tc.path, got, tc.isADir)
		}
	}
	f.endLookups()

	writeTree(t, app, map[string]string{"w.js": `module.exports = [
		(function () { try { return require('./link.js'); } catch (e) { return e.code; } })(),
		(function () { try { return require('evil'); } catch (e) { return e.code; } })(),
		(function () { try { return require('dotdot'); } catch (e) { return e.code; } })(),
		require('inner')].join(',');`})
	h := newHarness(t, Options{AppDir: app})
	if got, want := requireEval(t, h, "./w.js", "m"), "MODULE_NOT_FOUND,MODULE_NOT_FOUND,MODULE_NOT_FOUND,inner"; got != want {
		t.Errorf("require through symlinks = %v, want %v", got, want)
	}
}

// TestLookupCacheInvalidation: a module that writes a file through fs and then requires it in the same
// outermost require finds it (writes drop the window's cache), and a file created on disk after a require is
// found by the next one (the window ended).
func TestLookupCacheInvalidation(t *testing.T) {
	app := realTempDir(t)
	writeTree(t, app, map[string]string{
		"main.js": `var fs = require('fs');
			var before; try { require('./gen'); before = 'found'; } catch (e) { before = e.code; }
			fs.mkdirSync(__dirname + '/made');
			fs.writeFileSync(__dirname + '/made/gen2.js', "module.exports = 'gen2';");
			fs.writeFileSync(__dirname + '/gen.js', "module.exports = 'gen';");
			module.exports = [before, require('./gen'), require('./made/gen2')].join(',');`,
	})
	h := newHarness(t, Options{AppDir: app})
	if got, want := requireEval(t, h, "./main.js", "m"), "MODULE_NOT_FOUND,gen,gen2"; got != want {
		t.Errorf("require after fs writes = %v, want %v", got, want)
	}
	h.do(t, func(*goja.Runtime) {
		if _, err := h.l.Require("./later"); err == nil {
			t.Error("./later found before it exists")
		}
	})
	writeTree(t, app, map[string]string{"later/index.js": "module.exports = 'later';"})
	if got := requireEval(t, h, "./later", "m"); got != "later" {
		t.Errorf("require('./later') = %v after it was created", got)
	}
	if h.l.fsys.lookups.depth != 0 || h.l.fsys.lookups.dirs != nil {
		t.Errorf("a window is still open after the requires returned: depth %d", h.l.fsys.lookups.depth)
	}
}
