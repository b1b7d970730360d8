// Package client carries the project's browser and Node client for
// SocketCluster 0.9 (source in client/src, built into client/dist by
// client/build.sh). The built files are committed and embedded here, so
// building the server never needs Node.
//
// Two uses:
//   - Bundle / BundleMin are served at GET /socketcluster.js (and the
//     minified variant) when no user handler answers those paths.
//   - PackageFiles is the virtual npm package presented at
//     node_modules/socketcluster-client/ to worker code when the app has no
//     such package installed.
package client

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
)

// Version is the version of the embedded client.
const Version = "0.9.100"

var (
	// Bundle is dist/socketcluster.js: a readable IIFE that defines the
	// global socketCluster. Read-only.
	//
	//go:embed dist/socketcluster.js
	Bundle []byte

	// BundleMin is dist/socketcluster.min.js, the minified Bundle. Read-only.
	//
	//go:embed dist/socketcluster.min.js
	BundleMin []byte

	// nodeIndex is dist/index.cjs: the CommonJS entry (require()).
	//
	//go:embed dist/index.cjs
	nodeIndex []byte
)

// Package file names inside the virtual node_modules/socketcluster-client/.
const (
	FilePackageJSON = "package.json"
	FileIndex       = "index.js"
	FileBundle      = "socketcluster.js"
	FileBundleMin   = "socketcluster.min.js"
)

// PackageFiles returns the files of the virtual npm package
// socketcluster-client, keyed by their path inside the package directory:
// package.json, index.js (CommonJS, for require), socketcluster.js and
// socketcluster.min.js (browser bundles, as the 0.9.x package shipped them).
// The map is new on every call; the byte slices are shared and must not be
// modified.
func PackageFiles() map[string][]byte {
	pkg := fmt.Sprintf(`{
  "name": "socketcluster-client",
  "version": %q,
  "description": "Client of the Go SocketCluster server (embedded in the binary)",
  "main": "index.js",
  "license": "MIT"
}
`, Version)
	return map[string][]byte{
		FilePackageJSON: []byte(pkg),
		FileIndex:       nodeIndex,
		FileBundle:      Bundle,
		FileBundleMin:   BundleMin,
	}
}

// ETag returns a strong HTTP entity tag for b (a quoted SHA-256 prefix),
// for serving Bundle and BundleMin with caching headers.
func ETag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}
