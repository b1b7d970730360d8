#!/bin/sh
# Rebuilds client/dist from client/src (needs Node 20+ and npm).
set -eu
cd "$(dirname "$0")"
[ -d node_modules/esbuild ] || npm ci --no-audit --no-fund
node build.mjs "$@"
