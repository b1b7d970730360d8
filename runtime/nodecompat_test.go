package runtime

import (
	"testing"

	"github.com/dop251/goja"
)

// asyncCase runs src, which must eventually call done(value); want is the exported value.
type asyncCase struct {
	name, src string
	want      any
}

func runAsyncCases(t *testing.T, h *harness, cases []asyncCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.eval(t, `globalThis.__result = undefined; globalThis.__settled = false;
				globalThis.done = function (v) { if (!__settled) { __settled = true; __result = v; } };`)
			h.do(t, func(vm *goja.Runtime) {
				if _, err := vm.RunString(req + "(function () {" + tc.src + "\n})()"); err != nil {
					t.Errorf("run: %v", err)
				}
			})
			waitFor(t, tc.name+" done()", func() bool { return h.eval(t, "__settled") == true })
			if got := h.eval(t, "__result"); got != tc.want {
				t.Fatalf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestStreamModule(t *testing.T) {
	h := newModHarness(t, Options{})
	runAsyncCases(t, h, []asyncCase{
		{"readable flowing", `var s = require('stream'); var r = new s.Readable({ read() {} }); var out = [];
			r.on('data', c => out.push(c.toString())); r.on('end', () => done(out.join('|')));
			r.push('a'); r.push('b'); setTimeout(() => { r.push('c'); r.push(null); }, 1);`, "a|b|c"},
		{"readable paused read()", `var s = require('stream'); var r = new s.Readable({ read() {} });
			r.push('abc'); r.push('def'); r.push(null); var got = [];
			r.on('readable', () => { var c; while ((c = r.read(2)) !== null) got.push(c.toString()); });
			r.on('end', () => done(got.join(',')));`, "ab,cd,ef"},
		{"event order", `var s = require('stream'); var ev = []; var r = s.Readable.from(['x']);
			r.on('data', () => ev.push('data')); r.on('end', () => ev.push('end')); r.on('close', () => { ev.push('close'); done(ev.join(',')); });`, "data,end,close"},
		{"writable backpressure and finish", `var s = require('stream'); var got = []; var drained = 0;
			var w = new s.Writable({ highWaterMark: 4, write(c, e, cb) { got.push(c.toString()); setTimeout(cb, 1); } });
			var ok = w.write('12345'); w.on('drain', () => drained++);
			w.on('finish', () => done([ok, got.join(''), drained, w.writableFinished].join(',')));
			setTimeout(() => w.end('6'), 5);`, "false,123456,1,true"},
		{"writev batches", `var s = require('stream'); var batches = [];
			var w = new s.Writable({ writev(chunks, cb) { batches.push(chunks.length); cb(); }, write(c, e, cb) { batches.push(1); setTimeout(cb, 1); } });
			w.write('a'); w.write('b'); w.write('c'); w.end(() => done(batches.join(',')));`, "1,2"},
		{"final runs before finish", `var s = require('stream'); var ev = [];
			var w = new s.Writable({ write(c, e, cb) { cb(); }, final(cb) { ev.push('final'); setTimeout(cb, 1); } });
			w.on('finish', () => { ev.push('finish'); done(ev.join(',')); }); w.end('x');`, "final,finish"},
		{"transform", `var s = require('stream'); var t = new s.Transform({ transform(c, e, cb) { cb(null, c.toString().toUpperCase()); },
			flush(cb) { this.push('!'); cb(); } }); var out = '';
			t.on('data', c => out += c); t.on('end', () => done(out)); t.write('ab'); t.end('c');`, "ABC!"},
		{"pipe and pipeline", `var s = require('stream'); var out = '';
			var w = new s.Writable({ write(c, e, cb) { out += c; cb(); } });
			s.pipeline(s.Readable.from(['a', 'b', 'c']), new s.PassThrough({ objectMode: true }), w, err => done((err || 'ok') + ':' + out));`, "ok:abc"},
		{"pipeline error", `var s = require('stream');
			var r = new s.Readable({ read() { this.destroy(new Error('bad')); } });
			s.pipeline(r, new s.PassThrough(), err => done(err && err.message));`, "bad"},
		{"pipe backpressure", `var s = require('stream'); var n = 0, writes = 0;
			var r = new s.Readable({ read() { n++ < 50 ? this.push(Buffer.alloc(1000)) : this.push(null); } });
			var w = new s.Writable({ highWaterMark: 2000, write(c, e, cb) { writes++; setImmediate(cb); } });
			r.pipe(w).on('finish', () => done(writes));`, int64(50)},
		{"finished on writable", `var s = require('stream'); var w = new s.PassThrough(); w.resume();
			s.finished(w, err => done(err ? err.message : 'finished')); w.end('x');`, "finished"},
		{"premature close", `var s = require('stream'); var r = new s.Readable({ read() {} });
			s.finished(r, err => done(err.code)); r.destroy();`, "ERR_STREAM_PREMATURE_CLOSE"},
		{"async iterator", `var s = require('stream'); var it = s.Readable.from(['1', '2', '3'])[Symbol.asyncIterator](); var out = [];
			(function next() { it.next().then(r => { if (r.done) done(out.join('')); else { out.push(r.value); next(); } }); })();`, "123"},
		{"setEncoding splits utf8 safely", `var s = require('stream'); var r = new s.Readable({ read() {} }); var out = '';
			r.setEncoding('utf8'); r.on('data', c => out += '[' + c + ']'); r.on('end', () => done(out));
			var b = Buffer.from('h\u00e9'); r.push(b.slice(0, 2)); r.push(b.slice(2)); r.push(null);`, "[h][\u00e9]"},
		{"promises.pipeline", `var s = require('stream'); var out = '';
			s.promises.pipeline(s.Readable.from(['x', 'y']), new s.Writable({ objectMode: true, write(c, e, cb) { out += c; cb(); } }))
				.then(() => done(out));`, "xy"},
		{"duplex instanceof writable", `var s = require('stream'); var d = new s.Duplex({ read() {}, write(c, e, cb) { cb(); } });
			done([d instanceof s.Writable, d instanceof s.Readable, new s.PassThrough() instanceof s.Writable, {} instanceof s.Writable].join());`, "true,true,true,false"},
	})
}

func TestHTTPModule(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"status codes", req + `var http = require('http'); http.STATUS_CODES[404] + '|' + http.METHODS.includes('PATCH')`, "Not Found|true"},
		{"incoming message is readable", req + `var http = require('http'), s = require('stream');
			new http.IncomingMessage(null) instanceof s.Readable`, true},
		{"headers api", req + `var http = require('http'); var r = new http.ServerResponse({ method: 'GET' });
			r.setHeader('X-A', '1'); r.appendHeader('x-a', '2'); r.setHeader('Set-Cookie', ['a', 'b']);
			JSON.stringify([r.getHeader('x-a'), r.hasHeader('SET-COOKIE'), r.getHeaderNames(), r.headersSent])`, `[["1","2"],true,["x-a","set-cookie"],false]`},
		{"invalid header", req + `var http = require('http'); try { new http.ServerResponse({}).setHeader('bad name', 'x') } catch (e) { e.code }`, "ERR_INVALID_HTTP_TOKEN"},
		{"headers sent error", req + `var http = require('http'); var r = new http.ServerResponse({}); r.writeHead(200);
			try { r.setHeader('a', 'b') } catch (e) { e.code }`, "ERR_HTTP_HEADERS_SENT"},
	})
	runAsyncCases(t, h, []asyncCase{
		{"response wire", `var http = require('http'); var log = [];
			var res = new http.ServerResponse({ method: 'GET' }); res._handle = 7;
			res._wire = { head: (h, s, m, f) => log.push('head ' + h + ' ' + s + ' ' + f.join('=')),
				write: (h, c) => log.push('write ' + c), end: (h, c) => log.push('end ' + (c || '')), flush() {}, abort() {} };
			res.on('finish', () => { log.push('finish'); done(log.join(';')); });
			res.statusCode = 201; res.end('hi');`, "head 7 201 Content-Length=2;end hi;finish"},
		{"implicit header goes through writeHead hooks", `var http = require('http'); var res = new http.ServerResponse({});
			var orig = res.writeHead; res.writeHead = function () { this.setHeader('X-Hooked', 'yes'); return orig.apply(this, arguments); };
			res.write('a'); done(res.getHeader('x-hooked') + ' ' + res.headersSent);`, "yes true"},
		{"request body stream", `var http = require('http'); var req = new http.IncomingMessage(null); var body = '';
			req.on('data', c => body += c); req.on('end', () => done(body + ':' + req.complete));
			req.push(Buffer.from('ab')); setTimeout(() => { req.push(Buffer.from('c')); req.complete = true; req.push(null); }, 1);`, "abc:true"},
	})
}

func TestCryptoModule(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"md5", req + `require('crypto').createHash('md5').update('abc').digest('hex')`, "900150983cd24fb0d6963f7d28e17f72"},
		{"sha1 base64", req + `require('crypto').createHash('sha1').update('Hello World!', 'utf8').digest('base64')`, "Lve95gjOVATpfV8EL5X4nxwjKHE="},
		{"sha256 chunks", req + `require('crypto').createHash('sha256').update('a').update(Buffer.from('bc')).digest('hex')`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"sha512 length", req + `require('crypto').createHash('sha512').update('').digest().length`, int64(64)},
		{"hmac", req + `require('crypto').createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex')`, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"},
		{"hmac keyobject", req + `var c = require('crypto'); var k = c.createSecretKey(Buffer.from('key'));
			k.type + k.symmetricKeySize + c.createHmac('sha1', k).update('x').digest('hex').length`, "secret340"},
		{"unsupported digest", req + `try { require('crypto').createHash('nope') } catch (e) { e.message }`, "Digest method not supported"},
		{"digest twice", req + `var h = require('crypto').createHash('md5'); h.digest(); try { h.digest() } catch (e) { e.code }`, "ERR_CRYPTO_HASH_FINALIZED"},
		{"randomBytes", req + `var b = require('crypto').randomBytes(16); Buffer.isBuffer(b) && b.length === 16`, true},
		{"randomUUID", req + `/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(require('crypto').randomUUID())`, true},
		{"randomFillSync", req + `var a = new Uint8Array(64); require('crypto').randomFillSync(a); a.some(x => x !== 0)`, true},
		{"timingSafeEqual", req + `var c = require('crypto'); [c.timingSafeEqual(Buffer.from('ab'), Buffer.from('ab')), c.timingSafeEqual(Buffer.from('ab'), Buffer.from('ac'))].join()`, "true,false"},
		{"timingSafeEqual length", req + `try { require('crypto').timingSafeEqual(Buffer.from('a'), Buffer.from('ab')) } catch (e) { e.code }`, "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH"},
		{"public key rejects non-PEM", req + `try { require('crypto').createPublicKey('secret') } catch (e) { e.code }`, "ERR_INVALID_ARG_TYPE"},
	})
}

func TestZlibModule(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"gzip roundtrip", req + `var z = require('zlib'); z.gunzipSync(z.gzipSync('hello hello hello')).toString()`, "hello hello hello"},
		{"deflate roundtrip", req + `var z = require('zlib'); z.inflateSync(z.deflateSync(Buffer.from('abc'))).toString()`, "abc"},
		{"raw roundtrip", req + `var z = require('zlib'); z.inflateRawSync(z.deflateRawSync('raw')).toString()`, "raw"},
		{"unzip detects", req + `var z = require('zlib'); z.unzipSync(z.gzipSync('g')).toString() + z.unzipSync(z.deflateSync('d')).toString()`, "gd"},
		{"gzip magic", req + `var b = require('zlib').gzipSync('x'); b[0] === 0x1f && b[1] === 0x8b`, true},
		{"bad data", req + `try { require('zlib').gunzipSync(Buffer.from('nope')) } catch (e) { e.code }`, "Z_DATA_ERROR"},
	})
	runAsyncCases(t, h, []asyncCase{
		{"gzip stream", `var z = require('zlib'); var g = z.createGzip(); var parts = [];
			g.on('data', c => parts.push(c)); g.on('end', () => done(z.gunzipSync(Buffer.concat(parts)).toString()));
			g.write('part one, '); g.flush(() => { g.end('part two'); });`, "part one, part two"},
		{"gunzip stream", `var z = require('zlib'); var u = z.createGunzip(); var out = '';
			u.on('data', c => out += c); u.on('end', () => done(out)); var data = z.gzipSync('streamed');
			u.write(data.slice(0, 5)); u.end(data.slice(5));`, "streamed"},
		{"async gzip", `var z = require('zlib'); z.gzip('cb', (err, b) => z.gunzip(b, (e2, out) => done(String(out))));`, "cb"},
	})
}

func TestSmallCoreModules(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"net.isIP", req + `var n = require('net'); [n.isIP('127.0.0.1'), n.isIP('::1'), n.isIP('fe80::1%eth0'), n.isIP('1.2.3'), n.isIP('x')].join()`, "4,6,6,0,0"},
		{"tty", req + `require('tty').isatty(1)`, false},
		{"string_decoder utf8", req + `var D = require('string_decoder').StringDecoder; var d = new D('utf8'); var b = Buffer.from('\u20ac!');
			d.write(b.slice(0, 1)) + '|' + d.write(b.slice(1)) + '|' + d.end()`, "|\u20ac!|"},
		{"string_decoder incomplete end", req + `var D = require('string_decoder').StringDecoder; var d = new D(); d.write(Buffer.from([0xe2, 0x82])); d.end()`, "\ufffd"},
		{"string_decoder base64", req + `var D = require('string_decoder').StringDecoder; var d = new D('base64'); d.write(Buffer.from('ab')) + d.end(Buffer.from('c'))`, "YWJj"},
		{"assert ok", req + `var a = require('assert'); a(true); a.strictEqual(1, 1); a.deepStrictEqual({x: [1]}, {x: [1]}); 'ok'`, "ok"},
		{"assert fails", req + `var a = require('assert'); try { a.strictEqual(1, 2) } catch (e) { e.code + ' ' + (e instanceof a.AssertionError) }`, "ERR_ASSERTION true"},
		{"assert throws", req + `var a = require('assert'); a.throws(() => { throw new TypeError('x') }, TypeError); 'ok'`, "ok"},
		{"diagnostics_channel", req + `var dc = require('diagnostics_channel'); var c = dc.channel('x'); var got;
			c.subscribe(m => got = m); c.publish(5); got + ':' + dc.hasSubscribers('x')`, "5:true"},
		{"async_hooks storage", req + `var A = require('async_hooks').AsyncLocalStorage; var s = new A(); s.run(7, () => s.getStore())`, int64(7)},
	})
}

func TestCaptureStackTrace(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"stack string", `function f() { var o = {}; Error.captureStackTrace(o); return o.stack; } f().split('\n')[1].indexOf('at f') !== -1`, true},
		{"header from error", `var e = new RangeError('m'); Error.captureStackTrace(e); e.stack.split('\n')[0]`, "RangeError: m"},
		{"callsites", `function inner() { var prep = Error.prepareStackTrace; Error.prepareStackTrace = (o, s) => s;
				var o = {}; Error.captureStackTrace(o); var s = o.stack; Error.prepareStackTrace = prep; return s; }
			function outer() { return inner(); }
			var s = outer(); [s[0].getFunctionName(), s[1].getFunctionName(), typeof s[0].getLineNumber(), s[0].isEval(), typeof s[0].getColumnNumber()].join()`,
			"inner,outer,number,false,number"},
		{"skip fn", `function hidden() { var o = {}; Error.captureStackTrace(o, hidden); return o.stack; }
			function caller() { return hidden(); } var st = caller(); st.indexOf('hidden') === -1 && st.indexOf('at caller') !== -1`, true},
		{"limit", `Error.stackTraceLimit = 1; function a() { return b(); } function b() { var o = {}; Error.captureStackTrace(o); return o.stack; }
			var n = a().split('\n').length; Error.stackTraceLimit = 10; n`, int64(2)},
		{"non-object", `try { Error.captureStackTrace(1) } catch (e) { e.code }`, "ERR_INVALID_ARG_TYPE"},
	})
}

func TestUnicodePropertyRewrite(t *testing.T) {
	h := newModHarness(t, Options{})
	cases := []struct {
		name, pattern, input string
		want                 bool
	}{
		{"ID_Start in class", `/^[$_\p{ID_Start}]$/u`, "é", true},
		{"ID_Start rejects digit", `/^[$_\p{ID_Start}]$/u`, "1", false},
		{"ID_Continue digit", `/^[$\u200c\u200d\p{ID_Continue}]*$/u`, "a1_", true},
		{"letter", `/^\p{L}+$/u`, "añoΩ", true},
		{"letter rejects", `/^\p{L}+$/u`, "a1", false},
		{"negated", `/^\P{L}$/u`, "1", true},
		{"negated in class", `/^[\P{L}]$/u`, "a", false},
		{"long name", `/^\p{Uppercase_Letter}$/u`, "Q", true},
		{"script", `/^\p{Script=Greek}+$/u`, "αβγ", true},
		{"gc prefix", `/^\p{gc=Nd}$/u`, "٣", true},
		{"astral", `/^\p{L}$/u`, "𝒜", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := rewriteUnicodeProps("(" + tc.pattern + ").test(" + jsString(tc.input) + ")")
			if got := h.eval(t, src); got != tc.want {
				t.Fatalf("%s.test(%q) = %v, want %v", tc.pattern, tc.input, got, tc.want)
			}
		})
	}
	if got := rewriteUnicodeProps(`var s = "\\p{L}";`); got != `var s = "\\p{L}";` {
		t.Fatalf("string escape rewritten: %s", got)
	}
	if got := rewriteUnicodeProps(`/\p{NoSuchProperty}/u`); got != `/\p{NoSuchProperty}/u` {
		t.Fatalf("unknown property rewritten: %s", got)
	}
}

// TestUpstreamUnicodePropertyEscapes tells us when goja starts matching \p{...} itself: then
// rewriteUnicodeProps can go.
func TestUpstreamUnicodePropertyEscapes(t *testing.T) {
	vm := goja.New()
	v, err := vm.RunString(`/^\p{L}$/u.test("a") || /^[\p{ID_Start}]$/u.test("b")`)
	if err != nil {
		t.Fatalf("goja rejects property escapes: %v", err)
	}
	if v.ToBoolean() {
		t.Fatal("goja now matches Unicode property escapes natively: remove rewriteUnicodeProps and this test")
	}
}

// TestUpstreamCaptureStackTrace tells us when goja grows Error.captureStackTrace itself.
func TestUpstreamCaptureStackTrace(t *testing.T) {
	vm := goja.New()
	if v, _ := vm.RunString(`typeof Error.captureStackTrace`); v.String() != "undefined" {
		t.Fatal("goja now has Error.captureStackTrace: check installStackTrace still fits")
	}
}

func jsString(s string) string {
	out := []rune{'"'}
	for _, r := range s {
		if r == '"' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(append(out, '"'))
}
