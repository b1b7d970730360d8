// Package jsapi is everything a worker.js sees: the worker object passed to
// run(worker), the HTTP server with Node-compatible req/res, the SC server,
// sockets and responses (spec sections 2, 3 and 9).
//
// The JavaScript side lives in js/api.js and is evaluated once per worker
// VM. The Go side (Worker) owns the handle tables and is driven by the
// network layer through small interfaces (Conn); it never sees transport
// types. Every method that touches JavaScript runs on the VM's loop
// goroutine: methods called from other goroutines say so and hand their
// work to the loop with Submit, which blocks while the loop's inbox is full
// (back-pressure on the caller's connection).
package jsapi
