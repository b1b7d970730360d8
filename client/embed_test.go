package client

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestEmbeddedFiles(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want []string
	}{
		{"bundle", Bundle, []string{"socketCluster", "Event response for '", "n/", "/ssid", "probe"}},
		{"bundle min", BundleMin, []string{"socketCluster", "timed out"}},
		{"node index", nodeIndex, []string{"module.exports", "require(\"http\")"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.body) == 0 {
				t.Fatal("empty")
			}
			for _, w := range tc.want {
				if !bytes.Contains(tc.body, []byte(w)) {
					t.Errorf("missing %q", w)
				}
			}
		})
	}
	if len(BundleMin) >= len(Bundle) {
		t.Errorf("minified bundle (%d B) not smaller than bundle (%d B)", len(BundleMin), len(Bundle))
	}
}

func TestPackageFiles(t *testing.T) {
	files := PackageFiles()
	for _, name := range []string{FilePackageJSON, FileIndex, FileBundle, FileBundleMin} {
		if len(files[name]) == 0 {
			t.Errorf("%s missing or empty", name)
		}
	}
	if len(files) != 4 {
		t.Errorf("got %d files, want 4", len(files))
	}
	var pkg struct {
		Name, Version, Main string
	}
	if err := json.Unmarshal(files[FilePackageJSON], &pkg); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	if pkg.Name != "socketcluster-client" || pkg.Main != "index.js" || pkg.Version != Version {
		t.Errorf("package.json = %+v", pkg)
	}
	var src struct{ Version string }
	raw, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &src); err != nil {
		t.Fatal(err)
	}
	if src.Version != Version {
		t.Errorf("client/package.json version %q != Version %q", src.Version, Version)
	}
	if !bytes.Equal(files[FileBundle], Bundle) {
		t.Error("socketcluster.js differs from Bundle")
	}
}

func TestETag(t *testing.T) {
	a, b := ETag(Bundle), ETag(BundleMin)
	if a == b || !strings.HasPrefix(a, `"`) || !strings.HasSuffix(a, `"`) || len(a) != 26 {
		t.Errorf("ETag(Bundle)=%s ETag(BundleMin)=%s", a, b)
	}
	if ETag(Bundle) != a {
		t.Error("ETag not deterministic")
	}
}
