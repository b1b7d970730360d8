package runtime

import (
	"sync"
	"testing"
)

// TestCoreModulesCompile: every embedded module compiles, whether the background goroutines, a Loop or
// compileCore gets to it first, and concurrent callers get the same program.
func TestCoreModulesCompile(t *testing.T) {
	entries, err := jsSources.ReadDir("js")
	if err != nil {
		t.Fatal(err)
	}
	cs := newCoreSet()
	if cs.err != nil || len(cs.mods) != len(entries) {
		t.Fatalf("core set: %d modules of %d, err %v", len(cs.mods), len(entries), cs.err)
	}
	for i := 1; i < len(cs.bySize); i++ {
		if cs.bySize[i-1].size < cs.bySize[i].size {
			t.Fatalf("background order is not largest first: %s before %s", cs.bySize[i-1].name, cs.bySize[i].name)
		}
	}
	// Loop-like callers take modules in name order while the background goroutines take them by size.
	var wg sync.WaitGroup
	got := make([]map[string]any, 3)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[g] = map[string]any{}
			for name, c := range cs.mods {
				prg, err := c.get()
				if err != nil || prg == nil {
					t.Errorf("%s: %v", name, err)
					return
				}
				got[g][name] = prg
			}
		}()
	}
	cs.startBackground()
	wg.Wait()
	progs, err := cs.all()
	if err != nil {
		t.Fatal(err)
	}
	for name, prg := range progs {
		for g := range got {
			if got[g][name] != any(prg) {
				t.Errorf("%s compiled more than once", name)
			}
		}
	}
}

// TestCoreModuleCompileError: a module whose source does not compile fails on its require, with its name.
func TestCoreModuleCompileError(t *testing.T) {
	c := &coreProgram{name: "no-such-module"}
	if _, err := c.get(); err == nil {
		t.Fatal("a missing embedded module compiled")
	}
	h := newHarness(t, Options{})
	h.l.natives["broken"] = h.l.jsModule(c, nil)
	if err := h.evalErr(t, `require('broken')`); err == nil {
		t.Fatal("require of a module that does not compile succeeded")
	}
}

// resetCore forgets the compiled core modules (a new process). The background goroutines of the old set finish
// on their own.
func resetCore() { coreModules = sync.OnceValue(newCoreSet) }

// BenchmarkCoreCompile compiles every embedded core module from scratch: sequential on one goroutine (as before
// this change), parallel with the background goroutines (compileCore). Reports cpu-ns/op as well.
func BenchmarkCoreCompile(b *testing.B) {
	for _, mode := range []string{"sequential", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				cs := newCoreSet()
				if mode == "parallel" {
					if _, err := cs.all(); err != nil {
						b.Fatal(err)
					}
					continue
				}
				for _, c := range cs.bySize {
					if _, err := c.get(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
