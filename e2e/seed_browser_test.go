package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// chromiumPath is Debian's chromium, installed by scripts/test.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds one Chromium run.
const browserTimeout = 40 * time.Second

// TestSeedExampleInChromium serves examples/seed with the binary (the seed README's worker.js, which reads the
// 0.9.37 browser bundle from node_modules/socketcluster-client/socketcluster.js) and reads the random numbers from
// the page in headless Chromium, over the default transports and with forceJSONP.
func TestSeedExampleInChromium(t *testing.T) {
	requireChromium(t)
	clients := clientsDir(t)
	app := seedCopy(t, clients)
	srv := startServer(t, filepath.Join(app, "worker.js"))
	requireOriginalBundle(t, srv, clients)

	cases := []struct {
		name      string
		fragment  string // page options, in the URL fragment: the seed worker answers only the exact URL "/"
		transport string // where the page's socket must end up
		jsonp     bool   // whether polling must be JSONP only
	}{
		{name: "default transports", fragment: "", transport: "websocket"},
		{name: "forceJSONP then upgrade", fragment: "#forceJSONP=1", transport: "websocket", jsonp: true},
		{name: "forceJSONP without upgrade", fragment: "#forceJSONP=1&upgrade=0", transport: "polling", jsonp: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{
				"SC_URL":              srv.URL("/" + tc.fragment),
				"SC_MIN_NUMBERS":      "2",
				"SC_EXPECT_TRANSPORT": tc.transport,
				"SC_CHROMIUM":         chromiumPath,
			}
			if tc.jsonp {
				env["SC_EXPECT_JSONP"] = "1"
			}
			res, err := runNode(t, "browser-seed.js", env, browserTimeout)
			if err != nil {
				t.Fatal(err)
			}
			var numbers []int
			raw, _ := json.Marshal(res.Extra["numbers"])
			if err := json.Unmarshal(raw, &numbers); err != nil || len(numbers) < 2 {
				t.Fatalf("want at least 2 numbers, got %s", raw)
			}
			t.Logf("numbers %v over %v", numbers, res.Extra["transport"])
		})
	}
}

// requireOriginalBundle fails t unless the server's /socketcluster.js is byte for byte the original 0.9.37 bundle
// (the seed worker serves it from node_modules; the browser tests must exercise the original client, not a rewrite).
func requireOriginalBundle(t *testing.T, srv *server, clients string) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join(clients, "node_modules", "socketcluster-client", "socketcluster.js"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(srv.URL("/socketcluster.js"))
	if err != nil {
		t.Fatalf("GET /socketcluster.js: %v", err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET /socketcluster.js: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		t.Fatalf("GET /socketcluster.js: status %d, %d bytes (sha256 %x); want the original 0.9.37 bundle, %d bytes (sha256 %x)",
			resp.StatusCode, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

// seedCopy copies examples/seed to a temporary directory and installs the original 0.9.37 browser bundle where the
// seed worker reads it.
func seedCopy(t *testing.T, clients string) string {
	t.Helper()
	src := filepath.Join(repoRoot, "examples", "seed")
	dst := filepath.Join(t.TempDir(), "seed")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	bundle := filepath.Join(clients, "node_modules", "socketcluster-client", "socketcluster.js")
	target := filepath.Join(dst, "node_modules", "socketcluster-client", "socketcluster.js")
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(bundle, target); err != nil {
		t.Fatalf("install the 0.9.37 bundle: %v", err)
	}
	return dst
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
