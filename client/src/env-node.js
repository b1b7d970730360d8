// Node environment: long-polling over the built-in http/https modules,
// WebSocket from the `WebSocket` option (e.g. require('ws')) or the global
// WebSocket of Node 22+. When XMLHttpRequest exists (a browser-like host),
// the browser environment is used instead.

import { browserEnv } from './env-browser.js';

/** getModules() returns {http, https}; loaded lazily so hosts without them can still load the file. */
export function nodeEnv(getModules) {
  if (typeof XMLHttpRequest !== 'undefined' && typeof window !== 'undefined') return browserEnv();
  const request = (req, cb) => {
    let done = false;
    const finish = (err, res) => {
      if (done) return;
      done = true;
      cb(err, res);
    };
    let r;
    try {
      const mods = getModules();
      const url = new URL(req.url);
      const mod = url.protocol === 'https:' ? mods.https : mods.http;
      const headers = {};
      let body = null;
      if (req.body !== undefined) {
        body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
        headers['Content-Type'] = req.contentType;
        headers['Content-Length'] = body.length;
      }
      const options = { method: req.method, headers };
      if (req.agent !== undefined) options.agent = req.agent;
      r = mod.request(url, options, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
          finish(null, {
            status: res.statusCode,
            contentType: res.headers['content-type'] || '',
            body: req.binary ? bytes : buf.toString('utf8'),
          });
        });
        res.on('error', (err) => finish(err));
      });
      r.on('error', (err) => finish(err));
      r.end(body);
    } catch (err) {
      setTimeout(() => finish(err), 0);
    }
    return () => {
      done = true;
      if (r) r.destroy();
    };
  };
  return {
    isBrowser: false,
    eio: 3,
    request,
    supportsBinaryXHR: true,
    jsonp: null,
    WebSocket: typeof WebSocket !== 'undefined' ? WebSocket : null,
    window: null,
    document: null,
    location: null,
  };
}
