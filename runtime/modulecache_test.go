package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

// writeApp creates files (relative path -> content) under a fresh app directory and returns it, canonical.
func writeApp(t *testing.T, files map[string]string) string {
	t.Helper()
	dir, err := canonicalAppDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// testApp is a small app: main.js requires a local module and a package.
var testApp = map[string]string{
	"main.js":                           "var b = require('./lib/b'); var p = require('pkg'); module.exports = b + '/' + p;",
	"lib/b.js":                          "module.exports = 'b1';",
	"node_modules/pkg/package.json":     `{"name":"pkg","main":"./main.js"}`,
	"node_modules/pkg/main.js":          "module.exports = 'pkg';",
	"node_modules/pkg/data.json":        `{"unused":true}`,
	"node_modules/pkg/unused-by-app.js": "module.exports = 'never required';",
}

// loadMain loads dir/main.js in a fresh Loop and returns its exports as a string.
func loadMain(t *testing.T, dir string) string {
	t.Helper()
	h := newHarness(t, Options{AppDir: dir})
	var got string
	h.do(t, func(vm *goja.Runtime) {
		v, err := h.l.Require("./main.js")
		if err != nil {
			t.Fatalf("require main: %v", err)
		}
		got = v.String()
	})
	return got
}

// isCompiled reports whether the program cache holds path with exactly src.
func isCompiled(path, src string) bool {
	key := programKey(path, []byte(src))
	programCache.Lock()
	defer programCache.Unlock()
	_, ok := programCache.m[key]
	return ok
}

func newTestCache(t *testing.T) (*ModuleCache, *testenv.Buffer) {
	t.Helper()
	logs := &testenv.Buffer{}
	c, err := OpenModuleCache(filepath.Join(t.TempDir(), "cache"), slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

func readManifestFile(t *testing.T, c *ModuleCache, dir string) manifest {
	t.Helper()
	data, err := os.ReadFile(c.manifestPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestModuleCacheRecordAndPrefetch(t *testing.T) {
	dir := writeApp(t, testApp)
	c, _ := newTestCache(t)
	resetProgramCache()
	if got := loadMain(t, dir); got != "b1/pkg" {
		t.Fatalf("main = %q", got)
	}
	if err := c.Record(dir); err != nil {
		t.Fatal(err)
	}
	m := readManifestFile(t, c, dir)
	want := []string{"main.js", "lib/b.js", "node_modules/pkg/main.js"}
	if m.Format != manifestFormat || m.Engine != engineVersion() || m.AppDir != dir || strings.Join(m.Modules, ",") != strings.Join(want, ",") {
		t.Fatalf("manifest = %+v, want modules %v", m, want)
	}
	fi, _ := os.Stat(c.manifestPath(dir))
	if err := c.Record(dir); err != nil { // unchanged: not rewritten
		t.Fatal(err)
	}
	if fi2, _ := os.Stat(c.manifestPath(dir)); !fi2.ModTime().Equal(fi.ModTime()) {
		t.Errorf("an unchanged manifest was rewritten")
	}

	// A new process: nothing compiled; the prefetcher compiles what the manifest lists and nothing else.
	resetProgramCache()
	before := ReadLoadStats()
	c.Prefetch(dir).Wait()
	for _, rel := range want {
		if !isCompiled(filepath.Join(dir, rel), testApp[rel]) {
			t.Errorf("%s not prefetched", rel)
		}
	}
	if isCompiled(filepath.Join(dir, "node_modules/pkg/unused-by-app.js"), testApp["node_modules/pkg/unused-by-app.js"]) {
		t.Errorf("a module the manifest does not list was compiled")
	}
	mid := ReadLoadStats()
	if n := mid.Prefetched - before.Prefetched; n != int64(len(want)) {
		t.Errorf("prefetched %d, want %d", n, len(want))
	}
	if got := loadMain(t, dir); got != "b1/pkg" {
		t.Fatalf("main after prefetch = %q", got)
	}
	after := ReadLoadStats()
	if mods, hits := after.Modules-mid.Modules, after.CacheHits-mid.CacheHits; mods != 3 || hits != 3 {
		t.Errorf("loop loaded %d modules with %d cache hits, want 3 and 3", mods, hits)
	}
}

func TestModuleCacheContentChange(t *testing.T) {
	dir := writeApp(t, testApp)
	c, _ := newTestCache(t)
	resetProgramCache()
	loadMain(t, dir)
	if err := c.Record(dir); err != nil {
		t.Fatal(err)
	}
	// The module changes after the manifest was written, and again after the prefetcher compiled it: the loop
	// must run what it reads, never an older compilation.
	resetProgramCache()
	bPath := filepath.Join(dir, "lib", "b.js")
	if err := os.WriteFile(bPath, []byte("module.exports = 'b2';"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Prefetch(dir).Wait()
	if !isCompiled(bPath, "module.exports = 'b2';") {
		t.Fatalf("changed module not prefetched from its new content")
	}
	if err := os.WriteFile(bPath, []byte("module.exports = 'b3';"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := ReadLoadStats()
	if got := loadMain(t, dir); got != "b3/pkg" {
		t.Fatalf("main = %q, want b3/pkg (the file's current content)", got)
	}
	after := ReadLoadStats()
	if mods, hits := after.Modules-before.Modules, after.CacheHits-before.CacheHits; mods != 3 || hits != 2 {
		t.Errorf("loop loaded %d modules with %d hits, want 3 and 2 (the changed one compiled afresh)", mods, hits)
	}
}

func TestModuleCacheUnusableManifests(t *testing.T) {
	dir := writeApp(t, testApp)
	valid := func(mut func(*manifest)) []byte {
		m := manifest{Format: manifestFormat, Engine: engineVersion(), AppDir: dir, Modules: []string{"main.js", "lib/b.js"}}
		mut(&m)
		data, _ := json.Marshal(m)
		return data
	}
	tooMany := make([]string, DefaultManifestEntries+1)
	for i := range tooMany {
		tooMany[i] = "main.js"
	}
	cases := []struct {
		name, log string
		data      []byte
	}{
		{"corrupt", "corrupt", []byte(`{"format":1,"modules":["main.js"`)},
		{"binary garbage", "corrupt", []byte{0xff, 0x00, 0x13, 0x37}},
		{"other format", "other version", valid(func(m *manifest) { m.Format = manifestFormat + 1 })},
		{"other engine", "other version", valid(func(m *manifest) { m.Engine = "goja v0 rewrite 0" })},
		{"other app", "other app", valid(func(m *manifest) { m.AppDir = "/elsewhere" })},
		{"too many modules", "too many modules", valid(func(m *manifest) { m.Modules = tooMany })},
		{"too large", "too large", append(valid(func(*manifest) {}), bytes.Repeat([]byte(" "), DefaultManifestBytes)...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, logs := newTestCache(t)
			if err := os.WriteFile(c.manifestPath(dir), tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			resetProgramCache()
			before := ReadLoadStats()
			c.Prefetch(dir).Wait()
			if n := ReadLoadStats().Prefetched - before.Prefetched; n != 0 {
				t.Errorf("prefetched %d modules from an unusable manifest", n)
			}
			if !strings.Contains(logs.String(), "manifest ignored: "+tc.log) {
				t.Errorf("no Debug line %q in:\n%s", "manifest ignored: "+tc.log, logs)
			}
			// The app still loads, and Record replaces the bad manifest with a good one.
			if got := loadMain(t, dir); got != "b1/pkg" {
				t.Fatalf("main = %q", got)
			}
			if err := c.Record(dir); err != nil {
				t.Fatal(err)
			}
			if m := readManifestFile(t, c, dir); len(m.Modules) != 3 || m.AppDir != dir {
				t.Errorf("manifest not rewritten: %+v", m)
			}
		})
	}
}

func TestModuleCacheConfinement(t *testing.T) {
	outside := writeApp(t, map[string]string{"secret.js": "module.exports = 'secret';"})
	secret := filepath.Join(outside, "secret.js")
	dir := writeApp(t, testApp)
	if err := os.Symlink(secret, filepath.Join(dir, "link.js")); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, secret)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newTestCache(t)
	m := manifest{Format: manifestFormat, Engine: engineVersion(), AppDir: dir,
		Modules: []string{filepath.ToSlash(rel), "../" + filepath.Base(outside) + "/secret.js", secret, "link.js", "main.js"}}
	data, _ := json.Marshal(m)
	if err := os.WriteFile(c.manifestPath(dir), data, 0o600); err != nil {
		t.Fatal(err)
	}
	resetProgramCache()
	c.Prefetch(dir).Wait()
	src := "module.exports = 'secret';"
	for _, p := range []string{secret, filepath.Join(dir, "link.js"), filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(secret, "/")))} {
		if isCompiled(p, src) {
			t.Errorf("prefetcher read %s, outside the app", p)
		}
	}
	if !isCompiled(filepath.Join(dir, "main.js"), testApp["main.js"]) {
		t.Errorf("the module inside the app was not prefetched")
	}
	// require keeps its own rules whatever the cache holds.
	h := newHarness(t, Options{AppDir: dir})
	h.do(t, func(vm *goja.Runtime) {
		if _, err := h.l.Require("./link.js"); err == nil {
			t.Errorf("require through a symlink out of the app succeeded")
		}
		if _, err := h.l.Require(secret); err == nil {
			t.Errorf("require of a file outside the app succeeded")
		}
	})
}

func TestModuleCacheConcurrentWriters(t *testing.T) {
	c, _ := newTestCache(t)
	path := filepath.Join(c.Dir(), "race"+manifestSuffix)
	const writers, rounds = 8, 40
	contents := make([][]byte, writers)
	for i := range contents {
		contents[i] = bytes.Repeat([]byte(strconv.Itoa(i)), 4096+i)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	torn := make(chan string, 1)
	wg.Add(1)
	go func() { // a reader never sees a partial file
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			ok := false
			for _, want := range contents {
				ok = ok || bytes.Equal(data, want)
			}
			if !ok {
				select {
				case torn <- fmt.Sprintf("read %d bytes matching no writer", len(data)):
				default:
				}
				return
			}
		}
	}()
	var writersWG sync.WaitGroup
	for i := range writers {
		writersWG.Add(1)
		go func() {
			defer writersWG.Done()
			for range rounds {
				if err := writeAtomic(path, contents[i]); err != nil {
					t.Errorf("writer %d: %v", i, err)
					return
				}
			}
		}()
	}
	writersWG.Wait()
	close(stop)
	wg.Wait()
	select {
	case msg := <-torn:
		t.Fatal(msg)
	default:
	}
	entries, _ := os.ReadDir(c.Dir())
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}

	// Workers of a host recording the same app at once.
	dir := writeApp(t, testApp)
	loadMain(t, dir)
	var rec sync.WaitGroup
	for range writers {
		rec.Add(1)
		go func() {
			defer rec.Done()
			if err := c.Record(dir); err != nil {
				t.Errorf("Record: %v", err)
			}
		}()
	}
	rec.Wait()
	if m := readManifestFile(t, c, dir); len(m.Modules) != 3 {
		t.Errorf("manifest after concurrent records: %+v", m)
	}
}

func TestModuleCachePrune(t *testing.T) {
	c, _ := newTestCache(t)
	old := time.Now().Add(-time.Hour)
	for i := range DefaultModuleCacheFiles + 5 {
		p := filepath.Join(c.Dir(), fmt.Sprintf("old%03d%s", i, manifestSuffix))
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		_ = os.Chtimes(p, old, old.Add(time.Duration(i)*time.Second))
	}
	stale := filepath.Join(c.Dir(), ".manifest-1.tmp")
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(stale, old, old)
	dir := writeApp(t, testApp)
	loadMain(t, dir)
	if err := c.Record(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(c.Dir())
	if len(entries) != DefaultModuleCacheFiles {
		t.Errorf("%d files after pruning, want %d", len(entries), DefaultModuleCacheFiles)
	}
	if _, err := os.Stat(c.manifestPath(dir)); err != nil {
		t.Errorf("the new manifest was pruned: %v", err)
	}
	for _, gone := range []string{stale, filepath.Join(c.Dir(), "old000"+manifestSuffix)} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s survived pruning", filepath.Base(gone))
		}
	}
}

// TestPrefetchInflight: a Loop needing a module the prefetcher is compiling waits for that
// compilation (one compile per module), and a failed prefetch compile leaves the error to the Loop.
func TestPrefetchInflight(t *testing.T) {
	resetProgramCache()
	path, src := "/virtual/x.js", []byte("module.exports = 1;")
	key := programKey(path, src)
	done := make(chan struct{})
	programCache.Lock()
	if programCache.inflight == nil {
		programCache.inflight = map[[32]byte]chan struct{}{}
	}
	programCache.inflight[key] = done
	programCache.Unlock()
	if _, hit, err := cachedCompile(path, src, true, compileSource); err != nil || !hit {
		t.Fatalf("prefetch of an in-flight key: hit %v err %v, want a skip", hit, err)
	}
	got := make(chan bool, 1)
	go func() {
		_, hit, err := cachedCompile(path, src, false, compileSource)
		got <- hit && err == nil
	}()
	select {
	case <-got:
		t.Fatal("the loop did not wait for the in-flight compile")
	case <-time.After(20 * time.Millisecond):
	}
	prg, err := compileSource(path, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	programCache.Lock()
	if programCache.m == nil {
		programCache.m = map[[32]byte]*goja.Program{}
	}
	programCache.m[key] = prg
	delete(programCache.inflight, key)
	programCache.Unlock()
	close(done)
	select {
	case hit := <-got:
		if !hit {
			t.Fatal("the waiting loop compiled again instead of taking the program")
		}
	case <-time.After(testDeadline):
		t.Fatal("the loop never woke")
	}
	if _, _, err := cachedCompile("/virtual/bad.js", []byte("var = ;"), true, compileSource); err == nil {
		t.Fatal("a syntax error compiled")
	}
	if _, _, err := cachedCompile("/virtual/bad.js", []byte("var = ;"), false, compileSource); err == nil {
		t.Fatal("the loop did not get the syntax error")
	}
}

// TestSourceMapsNotRead: a "//# sourceMappingURL=" comment must not make the engine read a file (here one
// outside the app, whose mapping would rename the frames of the stack): source maps are off, as in Node.
func TestSourceMapsNotRead(t *testing.T) {
	outside := t.TempDir()
	mapFile := filepath.Join(outside, "evil.js.map")
	if err := os.WriteFile(mapFile, []byte(`{"version":3,"sources":["mapped-from-outside.ts"],"names":[],"mappings":"AAAA;AACA;AACA"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := writeApp(t, map[string]string{
		"main.js": "module.exports = function () {\n  throw new Error('boom');\n};\n//# sourceMappingURL=" + mapFile + "\n",
	})
	resetProgramCache()
	h := newHarness(t, Options{AppDir: dir})
	var stack string
	h.do(t, func(vm *goja.Runtime) {
		v, err := h.l.Require("./main.js")
		if err != nil {
			t.Fatal(err)
		}
		fn, _ := goja.AssertFunction(v)
		_, err = fn(goja.Undefined())
		var ex *goja.Exception
		if !errors.As(err, &ex) {
			t.Fatalf("call: %v", err)
		}
		stack = ex.String()
	})
	if strings.Contains(stack, "mapped-from-outside") {
		t.Fatalf("the source map outside the app was read:\n%s", stack)
	}
	if !strings.Contains(stack, filepath.Join(dir, "main.js")+":2") {
		t.Fatalf("stack does not name main.js:2:\n%s", stack)
	}
}

// TestJSONModulePrefetch: a JSON module the manifest lists runs as a prefetched program with JSON.parse's value;
// texts where a literal would differ from JSON.parse (a __proto__ key, spelled out or escaped) or that are not
// JSON at all keep JSON.parse's result, including its SyntaxError.
func TestJSONModulePrefetch(t *testing.T) {
	cases := []struct {
		name, text string
		fast       bool   // expected to run as a prefetched program
		want       string // JSON.stringify of the module with own keys listed, or "SyntaxError"
	}{
		{"object", `{"b": [1, 2.5, -0, 1e400, null, true], "a": {"s": "x\"y\n"}}`, true, `{"b":[1,2.5,0,null,null,true],"a":{"s":"x\"y\n"}}|b,a`},
		{"array", `[{"k": 1}, "two"]`, true, `[{"k":1},"two"]|0,1`},
		{"proto key", `{"__proto__": {"polluted": 1}, "x": 1}`, false, `{"__proto__":{"polluted":1},"x":1}|__proto__,x`},
		{"escaped proto key", `{"\u005f_proto__": {"polluted": 1}}`, false, `{"__proto__":{"polluted":1}}|__proto__`},
		{"not json", `{a: 1}`, false, "SyntaxError"},
		{"comment", "// c\n{}", false, "SyntaxError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeApp(t, map[string]string{
				"main.js":   "module.exports = require('./data.json');",
				"data.json": tc.text,
			})
			c, _ := newTestCache(t)
			m := manifest{Format: manifestFormat, Engine: engineVersion(), AppDir: dir, Modules: []string{"data.json", "main.js"}}
			data, _ := json.Marshal(m)
			if err := os.WriteFile(c.manifestPath(dir), data, 0o600); err != nil {
				t.Fatal(err)
			}
			resetProgramCache()
			c.Prefetch(dir).Wait()
			before := ReadLoadStats()
			h := newHarness(t, Options{AppDir: dir})
			var got string
			h.do(t, func(vm *goja.Runtime) {
				v, err := h.l.Require("./main.js")
				if err != nil {
					if strings.Contains(err.Error(), "SyntaxError") {
						got = "SyntaxError"
						return
					}
					t.Fatalf("require: %v", err)
				}
				_ = vm.Set("__m", v)
				s, err := vm.RunString(`JSON.stringify(__m) + '|' + Object.keys(__m).join(',')`)
				if err != nil {
					t.Fatal(err)
				}
				got = s.String()
			})
			if got != tc.want {
				t.Errorf("module = %s, want %s", got, tc.want)
			}
			if fast := ReadLoadStats().JSONPrefetched-before.JSONPrefetched == 1; fast != tc.fast {
				t.Errorf("ran a prefetched program: %v, want %v", fast, tc.fast)
			}
		})
	}
}

func TestJSONAsProgram(t *testing.T) {
	large := "[" + strings.Repeat("1,", maxJSONProgram/2) + "1]"
	cases := []struct {
		name, text string
		want       bool
	}{
		{"object", `{"a": [1, "x"]}`, true},
		{"larger than the bound", large, false},
		{"proto", `{"__proto__": 1}`, false},
		{"unicode escape", `{"a": "\u0041"}`, false},
		{"javascript", `{a: 1}`, false},
		{"trailing comma", `[1,]`, false},
	}
	for _, tc := range cases {
		if got := jsonAsProgram([]byte(tc.text)); got != tc.want {
			t.Errorf("%s: jsonAsProgram = %v, want %v", tc.name, got, tc.want)
		}
	}
}
