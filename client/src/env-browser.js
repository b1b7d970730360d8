// Browser environment: XHR2 long-polling (arraybuffer responses, Blob-free
// binary bodies), JSONP via script tags and a hidden form, the native WebSocket.

import { escapeJSONPBody } from './codec.js';

function xhrRequest(req, cb) {
  const xhr = new XMLHttpRequest();
  let finished = false;
  const finish = (err, res) => {
    if (finished) return;
    finished = true;
    cb(err, res);
  };
  try {
    xhr.open(req.method, req.url, true);
    if ('withCredentials' in xhr) xhr.withCredentials = true;
    if (req.binary && req.method === 'GET') xhr.responseType = 'arraybuffer';
    if (req.body !== undefined) xhr.setRequestHeader('Content-type', req.contentType);
    xhr.onreadystatechange = () => {
      if (xhr.readyState !== 4) return;
      if (xhr.status === 0) return finish(new Error('xhr network error'));
      const contentType = xhr.getResponseHeader('Content-Type');
      let body;
      if (xhr.responseType === 'arraybuffer') {
        body = xhr.response ? new Uint8Array(xhr.response) : new Uint8Array(0);
      } else {
        body = xhr.responseText;
      }
      finish(null, { status: xhr.status, contentType, body });
    };
    xhr.send(req.body === undefined ? null : req.body);
  } catch (err) {
    setTimeout(() => finish(err), 0);
  }
  return () => {
    finished = true;
    xhr.onreadystatechange = null;
    try {
      xhr.abort();
    } catch (err) {
      // ignore
    }
  };
}

function supportsBinaryXHR() {
  try {
    return typeof XMLHttpRequest !== 'undefined' && new XMLHttpRequest().responseType !== undefined;
  } catch (err) {
    return false;
  }
}

// JSONP: the server answers `___eio[<j>]("<text payload>");`.
const jsonp = {
  alloc() {
    const callbacks = window.___eio || (window.___eio = []);
    callbacks.push(noop);
    return callbacks.length - 1;
  },

  get(index, url, cb) {
    const script = document.createElement('script');
    let done = false;
    const cleanup = () => {
      done = true;
      window.___eio[index] = noop;
      script.onerror = null;
      if (script.parentNode) script.parentNode.removeChild(script);
    };
    window.___eio[index] = (text) => {
      if (done) return;
      cleanup();
      cb(null, String(text));
    };
    script.async = true;
    script.src = url;
    script.onerror = () => {
      if (done) return;
      cleanup();
      cb(new Error('jsonp poll error'));
    };
    (document.head || document.getElementsByTagName('head')[0] || document.body).appendChild(script);
    return cleanup;
  },

  post(url, payload, cb) {
    const id = 'eio_iframe_' + Math.random().toString(36).slice(2);
    const form = document.createElement('form');
    const area = document.createElement('textarea');
    const iframe = document.createElement('iframe');
    form.style.position = 'absolute';
    form.style.top = '-1000px';
    form.style.left = '-1000px';
    form.target = id;
    form.method = 'POST';
    form.setAttribute('accept-charset', 'utf-8');
    form.action = url;
    area.name = 'd';
    area.value = escapeJSONPBody(payload);
    iframe.name = id;
    iframe.src = 'javascript:0';
    form.appendChild(area);
    document.body.appendChild(form);
    form.appendChild(iframe);
    let done = false;
    const cleanup = () => {
      done = true;
      iframe.onload = null;
      if (form.parentNode) form.parentNode.removeChild(form);
    };
    form.submit();
    // Attached after submit, as engine.io-client did, so the iframe's own
    // initial load does not count as the response.
    iframe.onload = () => {
      if (done) return;
      cleanup();
      cb(null, { status: 200 });
    };
    return cleanup;
  },
};

function noop() {}

export function browserEnv() {
  const hasWindow = typeof window !== 'undefined';
  const hasXHR = typeof XMLHttpRequest !== 'undefined';
  return {
    isBrowser: hasWindow && typeof document !== 'undefined',
    eio: 2,
    request: hasXHR ? xhrRequest : null,
    supportsBinaryXHR: supportsBinaryXHR(),
    jsonp: hasWindow && typeof document !== 'undefined' ? jsonp : null,
    WebSocket: typeof WebSocket !== 'undefined' ? WebSocket : null,
    window: hasWindow ? window : null,
    document: typeof document !== 'undefined' ? document : null,
    location: typeof location !== 'undefined' ? location : null,
  };
}
