package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeWorker(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "worker.js")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBadWorkerControllerExitsNonZero checks the binary's answer to a
// worker.js that cannot start: a non-zero exit naming the file (and line).
func TestBadWorkerControllerExitsNonZero(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"syntax error", "module.exports.run = function (worker) {\n  var x = ;\n};\n", "worker.js:2"},
		{"no run export", "module.exports.start = function () {};\n", "run(worker)"},
		{"throws at load", "throw new Error('boom at load');\n", "boom at load"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeWorker(t, tc.src)
			var out, errb bytes.Buffer
			code, err := run(context.Background(), []string{"socketcluster", "--workerController", p, "--port", "0", "--listen", "127.0.0.1"}, &out, &errb)
			if code == 0 || err == nil {
				t.Fatalf("exit %d, err %v; want non-zero", code, err)
			}
			if !strings.Contains(err.Error()+errb.String(), tc.want) || !strings.Contains(err.Error()+errb.String(), "worker.js") {
				t.Fatalf("error %q (stderr %q) does not name %q", err, errb.String(), tc.want)
			}
		})
	}
}

func TestMissingWorkerControllerIsUsageError(t *testing.T) {
	var out, errb bytes.Buffer
	code, err := run(context.Background(), []string{"socketcluster", "--port", "0"}, &out, &errb)
	if code != 2 || err == nil || !strings.Contains(err.Error(), "workerController") {
		t.Fatalf("exit %d err %v", code, err)
	}
}
