// Package e2e holds the end-to-end tests that drive the whole socketcluster binary the way users do: the binary is
// built from ./cmd/socketcluster, started on a free 127.0.0.1 port with a worker.js, and exercised by the original
// SocketCluster 0.9 clients from npm (Node scripts in testdata/clients) and by real headless Chromium (Debian's
// chromium, driven with playwright-core) against examples/seed.
//
// Requirements: go, node and npm on PATH; testdata/clients/node_modules (installed with npm ci on first use);
// /usr/bin/chromium for the browser tests. scripts/test installs all of them on a fresh machine.
//
// Environment:
//
//	SC_E2E_SERVER   run this executable instead of building ./cmd/socketcluster (it gets the same flags); meant for
//	                comparing against another implementation, never for CI.
//	SC_E2E_VERBOSE  when set, log every client's JSON result line even when it passes.
package e2e
