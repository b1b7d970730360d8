// Builds dist/ from src/ with esbuild (pinned in package.json).
// Usage: node build.mjs [outdir]   (default: dist)
// Prints the sizes of the browser bundle (raw, minified, minified+gzip).
import { build } from 'esbuild';
import { readFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2] || join(here, 'dist');
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const banner = `/*! socketcluster-client ${pkg.version} for the Go SocketCluster server | MIT | engine.io 1.3.1 wire protocol */`;
const common = {
  bundle: true,
  target: 'es2017',
  banner: { js: banner },
  legalComments: 'none',
  logLevel: 'warning',
  charset: 'utf8',
};

mkdirSync(outdir, { recursive: true });

await build({ ...common, entryPoints: [join(here, 'src/browser.js')], outfile: join(outdir, 'socketcluster.js'), format: 'iife', platform: 'browser' });
await build({ ...common, entryPoints: [join(here, 'src/browser.js')], outfile: join(outdir, 'socketcluster.min.js'), format: 'iife', platform: 'browser', minify: true });
await build({ ...common, entryPoints: [join(here, 'src/browser-esm.js')], outfile: join(outdir, 'socketcluster.esm.js'), format: 'esm', platform: 'browser' });
await build({ ...common, entryPoints: [join(here, 'src/node-cjs.js')], outfile: join(outdir, 'index.cjs'), format: 'cjs', platform: 'node' });
await build({ ...common, entryPoints: [join(here, 'src/node-esm.js')], outfile: join(outdir, 'index.mjs'), format: 'esm', platform: 'node' });

const raw = readFileSync(join(outdir, 'socketcluster.js'));
const min = readFileSync(join(outdir, 'socketcluster.min.js'));
const gz = gzipSync(min, { level: 9 });
console.log(`socketcluster.js ${raw.length} B, socketcluster.min.js ${min.length} B, min+gzip ${gz.length} B`);
