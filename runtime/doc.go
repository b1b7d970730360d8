// Package runtime hosts the JavaScript engine of one SocketCluster worker: one goja.Runtime owned by one loop
// goroutine, a Node-like event loop around it, CommonJS require confined to the app directory, and the Node core
// modules worker code and npm packages use (fs, path, events, util, console, process, buffer, timers, url,
// querystring, os, stream, http, string_decoder, crypto, zlib, net, tty, assert, diagnostics_channel,
// async_hooks).
//
// # Node compatibility layer
//
// http.IncomingMessage is a stream.Readable and http.ServerResponse an OutgoingMessage (legacy Stream with
// Writable's surface); the embedder moves bytes through res._wire (see js/http.js), so frameworks may replace the
// objects' prototypes (Express does). crypto and zlib are Go-backed (hashes/HMAC/random; gzip/deflate/raw).
// Engine gaps handled here: Error.captureStackTrace/prepareStackTrace with V8-style call sites (stacktrace.go);
// \p{...} regexp property escapes, which goja parses but never matches, are rewritten to explicit ranges before
// compilation (unicodeprops.go); a package whose "exports" target uses syntax goja lacks (async generators) falls
// back to its legacy "main". Compiled modules are cached process-wide by path and source hash (modcache.go); goja
// cannot serialise compiled code, so each worker process compiles what it loads, and ModuleCache (modulecache.go)
// lets a new worker compile its app's modules on background goroutines from a host-wide manifest the earlier
// workers recorded. Tests named TestUpstream* fail when goja fixes a gap.
//
// # Concurrency
//
// New builds the VM; Start runs the loop goroutine. From then on only that goroutine touches the VM or any
// goja.Value. Other goroutines hand work over with Submit (blocks while the bounded inbox is full: back-pressure)
// or TrySubmit (never blocks). VM, Require, RequireFile, Call, SetTimeout and RegisterModule are loop-only: call
// them inside a submitted function or a JS->Go callback. Stop ends the loop (queued tasks and timers are dropped)
// and waits for the goroutine; Done is closed when it has exited.
//
// # Event loop
//
// Each iteration runs up to DefaultBatchSize inbox tasks, then the timers that are due, then the immediates queued
// before the phase. Every task and every timer/immediate callback is a macrotask: after it, the process.nextTick
// queue and then the promise job queue are drained, repeatedly, until both are empty (Node's order), and promise
// rejections nobody handled are reported. setTimeout(fn, 0) scheduled by a task runs before a setImmediate
// scheduled by the same task.
//
// # Errors
//
// A JS exception escaping a callback is emitted as process 'uncaughtException' when the script listens for it and
// logged (Error level, with the JS stack) otherwise; unhandled rejections likewise go to 'unhandledRejection' or
// the log. The loop keeps serving. A macrotask running longer than Options.HandlerBudget is interrupted, logged
// ("handler exceeded budget of ...", with the stack) and the loop carries on. Exceeding MaxCallStackSize ends the
// call with a RangeError (*JSError); goja makes it uncatchable inside JS, so it surfaces at the Go boundary.
package runtime
