package runtime

import "testing"

// TestHotPathsKeepNodeBehaviour holds the per-request shortcuts (Go fast paths of Buffer and crypto, prototype
// defaults of stream states and http messages, the lazy stream half of crypto.Hash, cached header names, rest
// parameters in timers and events) to the behaviour of the general code they bypass.
func TestHotPathsKeepNodeBehaviour(t *testing.T) {
	h := newModHarness(t, Options{})
	runAsyncCases(t, h, []asyncCase{
		{"utf8 Buffer.from equals the byte-wise encoding", `var B = require('buffer').Buffer;
			var s = 'aé€😀\ud800x'; var b = B.from(s); var c = B.from(s, 'utf-8');
			done([b.toString('hex'), c.toString('hex'), b instanceof B, B.isBuffer(b), B.byteLength(s), B.byteLength(s, 'utf8'),
				B.byteLength('abc'), B.from('').length].join(','));`,
			"61c3a9e282acf09f9880efbfbd78,61c3a9e282acf09f9880efbfbd78,true,true,14,14,3,0"},
		{"hash update and digest fast paths", `var c = require('crypto'); var B = require('buffer').Buffer;
			var a = c.createHash('sha1').update('Hello World!').digest('base64');
			var b = c.createHash('sha1').update(B.from('Hello World!')).digest('base64');
			var d = c.createHash('sha1').update(new Uint8Array(B.from('Hello World!'))).digest('hex');
			var e = c.createHash('sha1').update('48656c6c6f20576f726c6421', 'hex').digest().toString('hex');
			var u = c.createHmac('sha256', 'k').update('x').digest('base64url');
			done([a, b, d, e, u].join(','));`,
			"Lve95gjOVATpfV8EL5X4nxwjKHE=,Lve95gjOVATpfV8EL5X4nxwjKHE=,2ef7bde608ce5404e97d5f042f95f89f1c232871," +
				"2ef7bde608ce5404e97d5f042f95f89f1c232871,w47ciBXISJ9kc4l49EAI-FljRVRfC6po72_PXFPlcYk"},
		{"hash works as a stream after the lazy init", `var c = require('crypto'); var h = c.createHash('md5');
			h.on('readable', function () { var d = h.read(); if (d) done(d.toString('hex') + ',' + h.readable); });
			h.write('ab'); h.end('c');`, "900150983cd24fb0d6963f7d28e17f72,true"},
		{"hash pipe target", `var c = require('crypto'); var s = require('stream'); var h = c.createHash('sha1');
			s.Readable.from(['Hello ', 'World!']).pipe(h).on('data', function (d) { done(d.toString('base64')); });`,
			"Lve95gjOVATpfV8EL5X4nxwjKHE="},
		{"stream states keep per-stream options", `var s = require('stream');
			var a = new s.Readable({ objectMode: true, read() {} }); var b = new s.Readable({ highWaterMark: 5, read() {} });
			var c = new s.Readable({ read() {} }); var w = new s.Writable({ decodeStrings: false, write(x, e, cb) { cb(); } });
			b._readableState.flowing = true;
			done([a.readableObjectMode, a.readableHighWaterMark, b.readableHighWaterMark, c.readableHighWaterMark,
				String(c._readableState.flowing), c._readableState.buffer !== b._readableState.buffer, w._writableState.decodeStrings,
				new s.Writable()._writableState.decodeStrings].join(','));`, "true,16,5,16384,null,true,false,true"},
		{"message defaults are shared, writes are per object", `var http = require('http');
			var r1 = new http.IncomingMessage(null), r2 = new http.IncomingMessage(null);
			r1.method = 'GET'; r1.complete = true;
			var s1 = new http.ServerResponse(r1), s2 = new http.ServerResponse(r2);
			s1.statusCode = 404; s1.setHeader('X-A', 1);
			done([r1.method, r2.method, r2.complete, r2.url === '', s2.statusCode, s2.finished, s1.getHeader('x-a'),
				s2.getHeader('x-a'), s2.hasHeader('X-A'), s1.socket, r1.headers !== r2.headers].join(','));`,
			"GET,,false,true,200,false,1,,false,,true"},
		{"header names: cached validation still rejects, lower-casing per name", `var http = require('http');
			var res = new http.ServerResponse(new http.IncomingMessage(null)); var errs = [];
			res.setHeader('Content-Type', 'a'); res.setHeader('Content-Type', 'b');
			try { res.setHeader('Bad Name', 'x'); } catch (e) { errs.push(e.code); }
			try { res.setHeader('X-Ok', 'bad\nvalue'); } catch (e) { errs.push(e.code); }
			try { res.setHeader('X-Ok', undefined); } catch (e) { errs.push(e.code); }
			res.setHeader('Content-Length', 12);
			done([res.getHeader('content-type'), res.getHeader('CONTENT-TYPE'), res.getHeaderNames().join('+'),
				res.getHeader('content-length'), errs.join('+')].join(','));`,
			"b,b,content-type+content-length,12,ERR_INVALID_HTTP_TOKEN+ERR_INVALID_CHAR+ERR_HTTP_INVALID_HEADER_VALUE"},
		{"end sets content-length unless one is set", `var http = require('http'); var heads = [];
			function mk(set) {
				var res = new http.ServerResponse(new http.IncomingMessage(null));
				res._wire = { head: function (h, s, m, f) { heads.push(f.join('=')); }, write: function () {}, end: function () {},
					flush: function () {}, abort: function () {} };
				if (set) res.setHeader(set, set === 'Transfer-Encoding' ? 'chunked' : '3');
				return res;
			}
			mk().end('héllo'); mk('Content-Length').end('abc'); mk('Transfer-Encoding').end('abc');
			done(heads.join('|'));`, "Content-Length=6|Content-Length=3|Transfer-Encoding=chunked"},
		{"response events in order without closures", `var http = require('http'); var ev = [];
			var res = new http.ServerResponse(new http.IncomingMessage(null));
			['prefinish', 'finish', 'close'].forEach(function (n) { res.on(n, function () { ev.push(n + arguments.length); }); });
			res.end('x', function () { ev.push('cb'); }); ev.push('sync');
			setTimeout(function () { done(ev.join(',') + ',' + res.writableFinished); }, 5);`,
			"sync,prefinish0,finish0,cb,close0,true"},
		{"timers and once pass their exact arguments", `var ev = []; var EE = require('events'); var e = new EE();
			e.once('x', function () { ev.push('once' + arguments.length + [].join.call(arguments, '')); });
			e.emit('x', 1, 2); e.emit('x', 3);
			setImmediate(function () { ev.push('imm' + arguments.length + [].join.call(arguments, '')); }, 'a', 'b');
			setTimeout(function () { ev.push('tm' + arguments.length); done(ev.join(',')); }, 5);`, "once212,imm2ab,tm0"},
		{"emit passes its exact arguments", `var EE = require('events'); var e = new EE(); var got = [];
			e.on('x', function () { got.push(arguments.length); }); e.emit('x'); e.emit('x', undefined); e.emit('x', 1, 2, 3);
			done(got.join(',') + ',' + e.emit('nobody') + ',' + EE.prototype.emit.length);`, "0,1,3,false,1"},
	})
}
