package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

type jsCase struct {
	name, src string
	want      any
}

func runCases(t *testing.T, h *harness, cases []jsCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.eval(t, tc.src); got != tc.want {
				t.Fatalf("%s\n got %#v\nwant %#v", tc.src, got, tc.want)
			}
		})
	}
}

// req gives scripts a require rooted at the app dir.
const req = `var require = function (id) { return globalThis.__require(id); };`

func newModHarness(t *testing.T, opts Options) *harness {
	h := newHarness(t, opts)
	h.do(t, func(vm *goja.Runtime) {
		_ = vm.Set("__require", func(id string) any {
			v, err := h.l.Require(id)
			if err != nil {
				panic(vm.NewGoError(err))
			}
			return v
		})
	})
	return h
}

func TestPath(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"join", req + `require('path').join('/foo', 'bar', 'baz/asdf', 'quux', '..')`, "/foo/bar/baz/asdf"},
		{"join empty", req + `require('path').join('', '')`, "."},
		{"join relative", req + `require('path').join('a', '../..', 'b/')`, "../b/"},
		{"resolve", req + `require('path').resolve('/foo/bar', './baz')`, "/foo/bar/baz"},
		{"resolve abs", req + `require('path').resolve('/foo/bar', '/tmp/file/')`, "/tmp/file"},
		{"resolve cwd", req + `require('path').resolve('x') === process.cwd() + '/x'`, true},
		{"relative", req + `require('path').relative('/data/orandea/test/aaa', '/data/orandea/impl/bbb')`, "../../impl/bbb"},
		{"relative same", req + `require('path').relative('/a/b', '/a/b')`, ""},
		{"dirname", req + `require('path').dirname('/foo/bar/baz/asdf/quux')`, "/foo/bar/baz/asdf"},
		{"dirname trailing", req + `require('path').dirname('/a/b/')`, "/a"},
		{"dirname root", req + `require('path').dirname('/a')`, "/"},
		{"basename ext", req + `require('path').basename('/foo/bar/baz/asdf/quux.html', '.html')`, "quux"},
		{"basename trailing", req + `require('path').basename('/a/b/')`, "b"},
		{"extname", req + `var p = require('path'); [p.extname('index.coffee.md'), p.extname('index.'), p.extname('index'), p.extname('.index'), p.extname('.index.md')].join('|')`, ".md|.|||.md"},
		{"normalize", req + `require('path').normalize('/foo/bar//baz/asdf/quux/..')`, "/foo/bar/baz/asdf"},
		{"normalize dots", req + `require('path').normalize('./a/../../b/')`, "../b/"},
		{"isAbsolute", req + `var p = require('path'); p.isAbsolute('/x') && !p.isAbsolute('x')`, true},
		{"parse", req + `JSON.stringify(require('path').parse('/home/user/dir/file.txt'))`, `{"root":"/","dir":"/home/user/dir","base":"file.txt","ext":".txt","name":"file"}`},
		{"format", req + `var p = require('path'); [p.format({root: '/ignored', dir: '/home/user/dir', base: 'file.txt'}), p.format({root: '/', base: 'file.txt', ext: 'ignored'}), p.format({root: '/', name: 'file', ext: '.txt'})].join('|')`, "/home/user/dir/file.txt|/file.txt|/file.txt"},
		{"sep delimiter posix", req + `var p = require('path'); p.sep + p.delimiter + (p.posix === p)`, "/:true"},
		{"type error", req + `try { require('path').join(1) } catch (e) { e.code }`, "ERR_INVALID_ARG_TYPE"},
	})
}

func TestEvents(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"exports", req + `var E = require('events'); E === E.EventEmitter && typeof E.once === 'function' && E.defaultMaxListeners === 10`, true},
		{"order and args", req + `var E = require('events'); var e = new E(), out = [];
			e.on('x', (a, b) => out.push('1' + a + b)); e.prependListener('x', () => out.push('0')); e.on('x', function () { out.push(this === e); });
			var r = e.emit('x', 'a', 'b'); out.push(r, e.emit('none')); out.join(',')`, "0,1ab,true,true,false"},
		{"once", req + `var E = require('events'); var e = new E(), n = 0; e.once('x', () => n++); e.prependOnceListener('x', () => n += 10);
			e.emit('x'); e.emit('x'); n + ':' + e.listenerCount('x')`, "11:0"},
		{"remove once by original", req + `var E = require('events'); var e = new E(), f = () => {}; e.once('x', f);
			var raw = e.rawListeners('x')[0]; [e.listeners('x')[0] === f, raw.listener === f, e.off('x', f).listenerCount('x')].join(',')`, "true,true,0"},
		{"meta events", req + `var E = require('events'); var e = new E(), out = []; e.on('newListener', (n) => out.push('new:' + n)); e.on('removeListener', (n) => out.push('rm:' + n));
			var f = () => {}; e.on('a', f); e.removeListener('a', f); out.join(',')`, "new:removeListener,new:a,rm:a"},
		{"removeAll", req + `var E = require('events'); var e = new E(); e.on('a', () => {}); e.on('b', () => {}); e.on('b', () => {});
			var before = e.eventNames().join(); e.removeAllListeners('b'); var mid = e.eventNames().join(); e.removeAllListeners(); before + '|' + mid + '|' + e.eventNames().length`, "a,b|a|0"},
		{"error throws", req + `var E = require('events'); var e = new E(); try { e.emit('error', new Error('boom')); 'no' } catch (x) { x.message }`, "boom"},
		{"error non-error", req + `var E = require('events'); var e = new E(); try { e.emit('error', 'str'); 'no' } catch (x) { x.code + ' ' + x.message }`, "ERR_UNHANDLED_ERROR Unhandled error. ('str')"},
		{"error listened", req + `var E = require('events'); var e = new E(), got; e.on('error', (x) => got = x); e.emit('error', 7); got`, int64(7)},
		{"max listeners", req + `var E = require('events'); var e = new E(); [e.getMaxListeners(), e.setMaxListeners(1).getMaxListeners()].join()`, "10,1"},
		{"util.inherits", req + `var E = require('events'), util = require('util'); function S() { E.call(this); } util.inherits(S, E);
			var s = new S(), v; s.on('x', (a) => v = a); s.emit('x', 5); (s instanceof E) + ':' + v + ':' + (S.super_ === E)`, "true:5:true"},
		{"class extends", req + `(function () { var E = require('events'); class S2 extends E { constructor() { super(); this.k = 1; } } var s = new S2(), v; s.on('x', function () { v = this.k; }); s.emit('x'); return v; })()`, int64(1)},
		{"listener type", req + `var E = require('events'); try { new E().on('x', 1) } catch (x) { x.code }`, "ERR_INVALID_ARG_TYPE"},
		{"removal during emit", req + `var E = require('events'); var e = new E(), out = []; var b = () => out.push('b'); e.on('x', () => { out.push('a'); e.removeListener('x', b); }); e.on('x', b); e.emit('x'); e.emit('x'); out.join('')`, "aba"},
		{"listenerCount static", req + `var E = require('events'); var e = new E(); e.on('x', () => {}); E.listenerCount(e, 'x')`, int64(1)},
	})
	h.eval(t, req+`var E = require('events'); var e = new E(); E.once(e, 'go').then((args) => console.log('once-promise ' + args.join('+'))); e.emit('go', 1, 2);`)
	h.waitOut(t, "once-promise 1+2")
}

func TestUtil(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"format s", req + `require('util').format('%s:%s', 'foo')`, "foo:%s"},
		{"format d i f", req + `require('util').format('%d %i %f %d', '42', 42.9, '1.5', 'x')`, "42 42 1.5 NaN"},
		{"format j", req + `require('util').format('%j', {a: 1})`, `{"a":1}`},
		{"format percent", req + `require('util').format('%%s %s', 'x')`, "%s x"},
		{"format extra", req + `require('util').format('a', 'b', 1, {c: 2})`, "a b 1 { c: 2 }"},
		{"format non-string", req + `require('util').format(1, 2)`, "1 2"},
		{"format s object", req + `require('util').format('%s', {a: {b: {c: 1}}})`, "{ a: [Object] }"},
		{"format O", req + `require('util').format('%O', {a: 'x'})`, "{ a: 'x' }"},
		{"format circular j", req + `var o = {}; o.o = o; require('util').format('%j', o)`, "[Circular]"},
		{"inspect object", req + `require('util').inspect({a: 1, b: 'x', c: [1, 2], d: null, e: undefined})`, "{ a: 1, b: 'x', c: [ 1, 2 ], d: null, e: undefined }"},
		{"inspect nested depth", req + `require('util').inspect({a: {b: {c: {d: 1}}}})`, "{ a: { b: { c: [Object] } } }"},
		{"inspect string", req + `require('util').inspect("it's")`, `"it's"`},
		{"inspect map set", req + `var u = require('util'); u.inspect(new Map([['a', 1]])) + ' ' + u.inspect(new Set([1]))`, "Map(1) { 'a' => 1 } Set(1) { 1 }"},
		{"inspect circular", req + `var o = {}; o.self = o; require('util').inspect(o)`, "<ref *1> { self: [Circular *1] }"},
		{"inspect function", req + `require('util').inspect(function foo() {}) + ' ' + require('util').inspect(class Bar {})`, "[Function: foo] [class Bar]"},
		{"inspect class instance", req + `class P { constructor() { this.x = 1; } } require('util').inspect(new P())`, "P { x: 1 }"},
		{"inspect buffer", req + `require('util').inspect(Buffer.from('hi'))`, "<Buffer 68 69>"},
		{"inspect empty", req + `require('util').inspect({}) + require('util').inspect([])`, "{}[]"},
		{"inspect date", req + `require('util').inspect(new Date(0))`, "1970-01-01T00:00:00.000Z"},
		{"inspect custom", req + `var u = require('util'); u.inspect({[u.inspect.custom]() { return 'CUSTOM'; }})`, "CUSTOM"},
		{"is*", req + `var u = require('util'); [u.isArray([]), u.isString(''), u.isFunction(u.format), u.types.isPromise(Promise.resolve()), u.types.isDate(new Date()), u.isError(new TypeError())].join()`, "true,true,true,true,true,true"},
		{"deprecate", req + `var u = require('util'); var f = u.deprecate((a) => a * 2, 'old'); f(2) + f(3)`, int64(10)},
		{"TextEncoder", `new TextDecoder().decode(new TextEncoder().encode('héllo'))`, "héllo"},
	})
	h.eval(t, req+`var u = require('util'); var p = u.promisify(function (a, cb) { setImmediate(() => a ? cb(null, a + 1) : cb(new Error('no'))); });
		p(1).then((v) => console.log('promisify ' + v)); p(0).catch((e) => console.log('promisify err ' + e.message));`)
	h.waitOut(t, "promisify 2")
	h.waitOut(t, "promisify err no")
}

func TestConsole(t *testing.T) {
	h := newModHarness(t, Options{})
	h.eval(t, `console.log('a %s %d', 'b', 3, {x: 1}); console.info('info'); console.error('err %j', [1]); console.warn('warn'); console.dir({d: [1]});`)
	if got, want := h.out.String(), "a b 3 { x: 1 }\ninfo\n{ d: [ 1 ] }\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got, want := h.err.String(), "err [1]\nwarn\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	h.eval(t, `(function traced() { console.trace('here %d', 1); })()`)
	if s := h.err.String(); !strings.Contains(s, "Trace: here 1") || !strings.Contains(s, "at traced") {
		t.Errorf("trace = %q", s)
	}
}

func TestProcess(t *testing.T) {
	exited := -1
	h := newModHarness(t, Options{Argv: []string{"node", "worker.js", "--x"}, Env: map[string]string{"FOO": "bar"}, OnExit: func(c int) { exited = c }})
	runCases(t, h, []jsCase{
		{"argv env", `process.argv.join(' ') + ' ' + process.env.FOO`, "node worker.js --x bar"},
		{"version", `/^v20\./.test(process.version) && process.versions.node.split('.')[0] === '20'`, true},
		{"platform pid", `process.platform === 'linux' && process.pid > 0 && typeof process.cwd() === 'string'`, true},
		{"hrtime", `var a = process.hrtime(); var d = process.hrtime(a); Array.isArray(a) && a.length === 2 && d[0] >= 0 && typeof process.hrtime.bigint() === 'bigint'`, true},
		{"memory uptime", `process.memoryUsage().heapUsed > 0 && process.uptime() >= 0`, true},
		{"emitter", `var n = 0; process.on('custom', (v) => n = v); process.emit('custom', 3); n + (typeof process.once)`, "3function"},
		{"env writable", `process.env.NEW = 'x'; process.env.NEW`, "x"},
		{"global", `global === globalThis && typeof Buffer === 'function' && typeof URL === 'function'`, true},
	})
	h.eval(t, `process.exit(3)`)
	if exited != 3 {
		t.Errorf("OnExit got %d, want 3", exited)
	}
}

func TestBuffer(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"utf8 hex", `Buffer.from('héllo').toString('hex')`, "68c3a96c6c6f"},
		{"base64", `Buffer.from('aGVsbG8=', 'base64').toString() + Buffer.from('hello').toString('base64')`, "helloaGVsbG8="},
		{"latin1", `Buffer.from('ÿA', 'latin1')[0] + ':' + Buffer.from([0xff, 0x41]).toString('latin1') + ':' + Buffer.from([0xff]).toString('binary')`, "255:ÿA:ÿ"},
		{"ascii", `Buffer.from([0xe9, 0x41]).toString('ascii')`, "iA"},
		{"concat alloc", `Buffer.concat([Buffer.from('a'), Buffer.from('bc')]).toString() + Buffer.alloc(3).length + Buffer.alloc(2, 'x').toString()`, "abc3xx"},
		{"isBuffer byteLength", `Buffer.isBuffer(Buffer.from('x')) && !Buffer.isBuffer('x') && Buffer.byteLength('héllo') === 6`, true},
		{"slice view", `var b = Buffer.from('hello'); var s = b.slice(1, 3); s[0] = 0x41; b.toString() + ' ' + Buffer.isBuffer(s)`, "hAllo true"},
		{"toJSON", `JSON.stringify(Buffer.from('hi'))`, `{"type":"Buffer","data":[104,105]}`},
		{"require buffer", `var b = require_buffer(); function require_buffer() { return globalThis.__require('buffer'); } b.Buffer === Buffer`, true},
		{"toString range", `Buffer.from('hello').toString('utf8', 1, 3)`, "el"},
		{"equals compare", `Buffer.from('a').equals(Buffer.from('a')) && Buffer.compare(Buffer.from('a'), Buffer.from('b')) === -1`, true},
	})
}

func TestQuerystring(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"parse", req + `JSON.stringify(require('querystring').parse('foo=bar&abc=xyz&abc=123'))`, `{"foo":"bar","abc":["xyz","123"]}`},
		{"parse plus utf8", req + `require('querystring').parse('a=%E4%BD%A0+b&c').a + '|' + require('querystring').parse('a=%E4%BD%A0+b&c').c`, "你 b|"},
		{"parse malformed", req + `require('querystring').parse('a=%zz%41').a`, "%zzA"},
		{"parse custom sep", req + `JSON.stringify(require('querystring').parse('a:1;b:2', ';', ':'))`, `{"a":"1","b":"2"}`},
		{"stringify", req + `require('querystring').stringify({foo: 'bar', baz: ['qux', 'quux'], corge: ''})`, "foo=bar&baz=qux&baz=quux&corge="},
		{"stringify sep", req + `require('querystring').stringify({foo: 'bar', baz: 'qux'}, ';', ':')`, "foo:bar;baz:qux"},
		{"stringify types", req + `require('querystring').stringify({n: 1, b: true, o: {}, u: undefined, s: 'a b&c'})`, "n=1&b=true&o=&u=&s=a%20b%26c"},
		{"escape unescape", req + `var q = require('querystring'); q.escape('a b/ü') + ' ' + q.unescape('a%20b')`, "a%20b%2F%C3%BC a b"},
		{"null proto", req + `Object.getPrototypeOf(require('querystring').parse('a=1')) === null`, true},
	})
}

func TestURL(t *testing.T) {
	h := newModHarness(t, Options{})
	runCases(t, h, []jsCase{
		{"parse full", req + `var u = require('url').parse('http://user:pass@Host.com:8080/p/a/t/h?query=string#hash');
			[u.protocol, u.slashes, u.auth, u.host, u.port, u.hostname, u.hash, u.search, u.query, u.pathname, u.path, u.href].join('|')`,
			"http:|true|user:pass|host.com:8080|8080|host.com|#hash|?query=string|query=string|/p/a/t/h|/p/a/t/h?query=string|http://user:pass@host.com:8080/p/a/t/h?query=string#hash"},
		{"parse path only", req + `var u = require('url').parse('/foo?a=1&b=2', true); u.pathname + ' ' + JSON.stringify(u.query) + ' ' + u.host`, `/foo {"a":"1","b":"2"} null`},
		{"parse slashes denote host", req + `require('url').parse('//example.com/x', false, true).host`, "example.com"},
		{"parse no path", req + `require('url').parse('http://example.com').pathname`, "/"},
		{"resolve", req + `var url = require('url'); [url.resolve('/one/two/three', 'four'), url.resolve('http://example.com/', '/one'), url.resolve('http://example.com/one', '/two'), url.resolve('http://a/b/c', '../d'), url.resolve('http://a/b', 'https://x/y')].join(' ')`,
			"/one/two/four http://example.com/one http://example.com/two http://a/d https://x/y"},
		{"format", req + `require('url').format({protocol: 'https', hostname: 'example.com', pathname: '/some/path', query: {page: 1, format: 'json'}})`, "https://example.com/some/path?page=1&format=json"},
		{"format string", req + `require('url').format('http://A.com/x')`, "http://a.com/x"},
		{"URL", `var u = new URL('https://example.org:8443/foo/bar?x=1&y=2#h'); [u.hostname, u.port, u.pathname, u.searchParams.get('y'), u.hash].join(' ')`, "example.org 8443 /foo/bar 2 #h"},
		{"URLSearchParams", `var p = new URLSearchParams('a=1&b=2&a=3'); p.getAll('a').join() + ' ' + p.toString()`, "1,3 a=1&b=2&a=3"},
		{"module URL", req + `require('url').URL === URL`, true},
	})
}

func TestFS(t *testing.T) {
	dir := t.TempDir()
	dir, _ = filepath.EvalSymlinks(dir)
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("héllo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newModHarness(t, Options{AppDir: dir})
	p := func(s string) string { return "'" + filepath.Join(dir, s) + "'" }
	runCases(t, h, []jsCase{
		{"readFileSync utf8", req + `require('fs').readFileSync(` + p("hello.txt") + `, 'utf8')`, "héllo\n"},
		{"readFileSync options", req + `require('fs').readFileSync(` + p("hello.txt") + `, {encoding: 'utf8', flag: 'r'})`, "héllo\n"},
		{"readFileSync buffer", req + `var b = require('fs').readFileSync(` + p("hello.txt") + `); Buffer.isBuffer(b) + ':' + b.length`, "true:7"},
		{"readFileSync hex", req + `require('fs').readFileSync(` + p("hello.txt") + `, 'hex')`, "68c3a96c6c6f0a"},
		{"ENOENT", req + `try { require('fs').readFileSync(` + p("nope.txt") + `) } catch (e) { [e.code, e.errno, e.syscall, e.path === ` + p("nope.txt") + `, e.message].join('|') }`,
			"ENOENT|-2|open|true|ENOENT: no such file or directory, open '" + filepath.Join(dir, "nope.txt") + "'"},
		{"EISDIR", req + `try { require('fs').readFileSync(` + p("sub") + `) } catch (e) { e.code }`, "EISDIR"},
		{"outside refused", req + `try { require('fs').readFileSync('/etc/passwd') } catch (e) { e.code }`, "EACCES"},
		{"existsSync", req + `var fs = require('fs'); [fs.existsSync(` + p("hello.txt") + `), fs.existsSync(` + p("nope") + `), fs.existsSync('/etc/passwd')].join()`, "true,false,false"},
		{"statSync", req + `var s = require('fs').statSync(` + p("hello.txt") + `); [s.isFile(), s.isDirectory(), s.size, s.mtime instanceof Date, s.mtimeMs > 0].join()`, "true,false,7,true,true"},
		{"statSync dir", req + `require('fs').statSync(` + p("sub") + `).isDirectory()`, true},
		{"statSync throwIfNoEntry", req + `require('fs').statSync(` + p("nope") + `, {throwIfNoEntry: false})`, nil},
		{"readdirSync", req + `require('fs').readdirSync(` + p("") + `).join()`, "hello.txt,sub"},
		{"readdirSync types", req + `require('fs').readdirSync(` + p("") + `, {withFileTypes: true}).map((d) => d.name + d.isDirectory()).join()`, "hello.txtfalse,subtrue"},
		{"writeFileSync", req + `var fs = require('fs'); fs.writeFileSync(` + p("out.txt") + `, 'abc'); fs.appendFileSync(` + p("out.txt") + `, Buffer.from('def')); fs.writeFileSync(` + p("b64.txt") + `, 'aGk=', 'base64'); fs.readFileSync(` + p("out.txt") + `, 'utf8') + fs.readFileSync(` + p("b64.txt") + `, 'utf8')`, "abcdefhi"},
		{"write outside refused", req + `try { require('fs').writeFileSync('/tmp/x-escape', 'x') } catch (e) { e.code }`, "EACCES"},
		{"relative resolves from cwd", req + `require('path').isAbsolute(require('path').resolve('x'))`, true},
	})
	h.eval(t, req+`var fs = require('fs'); var order = [];
		fs.readFile(`+p("hello.txt")+`, 'utf8', (err, data) => { order.push('cb:' + err + ':' + data.trim()); console.log(order.join(' ')); });
		order.push('sync');
		fs.readFile(`+p("nope")+`, (err) => console.log('async err ' + err.code));
		fs.stat(`+p("sub")+`, (err, s) => console.log('async stat ' + s.isDirectory()));
		fs.readdir(`+p("sub")+`, (err, l) => console.log('async readdir ' + l.length));
		fs.promises.readFile(`+p("hello.txt")+`, 'utf8').then((d) => console.log('promise ' + d.trim()));`)
	h.waitOut(t, "sync cb:null:héllo")
	h.waitOut(t, "async err ENOENT")
	h.waitOut(t, "async stat true")
	h.waitOut(t, "async readdir 0")
	h.waitOut(t, "promise héllo")
}
