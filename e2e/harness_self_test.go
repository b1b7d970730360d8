package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests check the harness itself, without the server binary: the pinned npm clients, Chromium driven by
// playwright-core, the client scripts' failure path, and the process lifecycle helpers.

func TestHarnessClientVersions(t *testing.T) {
	dir := clientsDir(t)
	want := map[string]string{
		"socketcluster-client":      "0.9.37",
		"socketcluster-client-0936": "0.9.36",
		"engine.io-client":          "1.3.1",
		"playwright-core":           "1.65.1",
		// The overrides replacing unreachable GitHub tarballs.
		"xmlhttprequest": "1.6.3",
		"global":         "4.4.0",
		"emitter":        "1.1.2",
	}
	for name, version := range want {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
			if err != nil {
				t.Fatalf("%s is not installed: %v", name, err)
			}
			var pkg struct {
				Version string `json:"version"`
			}
			if err := json.Unmarshal(b, &pkg); err != nil {
				t.Fatalf("%s/package.json: %v", name, err)
			}
			if pkg.Version != version {
				t.Fatalf("%s is %s, want %s", name, pkg.Version, version)
			}
		})
	}
}

func TestHarnessLockfileHasNoGitHubTarballs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "clients", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct {
			Resolved string `json:"resolved"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	if len(lock.Packages) < 10 {
		t.Fatalf("lockfile lists only %d packages", len(lock.Packages))
	}
	for path, p := range lock.Packages {
		if strings.Contains(p.Resolved, "github") {
			t.Errorf("%s resolves to %s, which cannot be fetched here (add an npm override)", path, p.Resolved)
		}
	}
}

// TestHarnessChromiumStaticPage runs browser-seed.js against a page served by a Go test server that fills the
// numbers list itself.
func TestHarnessChromiumStaticPage(t *testing.T) {
	requireChromium(t)
	page := `<!DOCTYPE html><html><head><title>static</title></head><body><ol id="numbers"></ol>
<script>
var n = [7, 42, 99];
var i = 0;
var timer = setInterval(function () {
  var li = document.createElement('li');
  li.textContent = String(n[i++]);
  document.getElementById('numbers').appendChild(li);
  if (i === n.length) { clearInterval(timer); }
}, 50);
</script></body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	defer srv.Close()

	res, err := runNode(t, "browser-seed.js", map[string]string{"SC_URL": srv.URL + "/", "SC_MIN_NUMBERS": "3"}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(res.Extra["numbers"])
	if string(got) != "[7,42,99]" {
		t.Fatalf("numbers = %s, want [7,42,99]", got)
	}
}

// TestHarnessChromiumReportsMissingNumbers makes sure the browser script fails when the page shows nothing.
func TestHarnessChromiumReportsMissingNumbers(t *testing.T) {
	requireChromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><body><p id="status">nothing</p><ol id="numbers"></ol></body></html>`)
	}))
	defer srv.Close()
	res, err := runNode(t, "browser-seed.js", map[string]string{"SC_URL": srv.URL + "/"}, 8*time.Second)
	if err == nil {
		t.Fatalf("browser-seed.js passed on a page without numbers: %s", res.Raw)
	}
	if res.Step != "numbers" {
		t.Fatalf("failed at step %q, want \"numbers\": %v", res.Step, err)
	}
}

// TestHarnessScenarioFailsWithoutServer makes sure a client scenario fails (not hangs, not passes) with no server.
func TestHarnessScenarioFailsWithoutServer(t *testing.T) {
	port := freePort(t)
	res, err := runNode(t, "node-scenario.js", map[string]string{
		"SC_PORT": fmt.Sprint(port), "SC_TRANSPORTS": "polling", "SC_STEPS": "echo",
	}, 3*time.Second)
	if err == nil {
		t.Fatalf("scenario passed without a server: %s", res.Raw)
	}
	if res.OK || res.Step != "connect" {
		t.Fatalf("want a failure at step connect, got step %q: %v", res.Step, err)
	}
}

func TestHarnessProcessLifecycle(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{fakeServerEnv + "=1"}

	t.Run("start and stop", func(t *testing.T) {
		port := freePort(t)
		s := startProcess(t, self, []string{"--port", fmt.Sprint(port)}, port, env)
		if !strings.Contains(s.Output(), bannerMarker) {
			t.Fatalf("output lacks the banner: %q", s.Output())
		}
		s.stop(t)
		if !strings.Contains(s.Output(), "fake server: stopped") {
			t.Fatalf("SIGTERM did not reach the server: %q", s.Output())
		}
	})

	t.Run("early exit is reported with output", func(t *testing.T) {
		port := freePort(t)
		s, err := launch(self, []string{"--port", fmt.Sprint(port), "--exit-early"}, port, env)
		if err == nil {
			t.Fatal("launch succeeded for a server that exits at once")
		}
		<-s.done
		if !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "failing on purpose") {
			t.Fatalf("error lacks the reason or the output: %v", err)
		}
	})
}

// requireChromium fails (never skips) when Debian's chromium is missing.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: run scripts/test (as root it installs Debian's chromium), or apt-get install chromium", chromiumPath)
	}
}
