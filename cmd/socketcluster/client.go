package main

import (
	"path"

	"github.com/socketcluster-go/socketcluster/client"
	"github.com/socketcluster-go/socketcluster/cluster"
)

// addClientFiles wires the embedded client (client/): GET /socketcluster.js
// and /socketcluster.min.js when worker.js does not answer them, and a
// virtual node_modules/socketcluster-client/ for worker code (an installed
// package always wins).
func addClientFiles(cfg *cluster.WorkerConfig) {
	const js = "application/javascript; charset=utf-8"
	cfg.Fallback = map[string]cluster.StaticFile{
		"/socketcluster.js":     {Body: client.Bundle, ContentType: js, ETag: client.ETag(client.Bundle)},
		"/socketcluster.min.js": {Body: client.BundleMin, ContentType: js, ETag: client.ETag(client.BundleMin)},
	}
	cfg.Overlay = make(map[string][]byte)
	for name, b := range client.PackageFiles() {
		cfg.Overlay[path.Join("node_modules", "socketcluster-client", name)] = b
	}
}
