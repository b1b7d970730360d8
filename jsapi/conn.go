package jsapi

import "net/http"

// Conn is one client connection as the SC server sees it. The cluster
// package implements it; every method must be safe to call from the loop
// goroutine without blocking.
type Conn interface {
	// ID is the socket id (<host>_<worker>_<sourcePort>_<secure>_<random>).
	ID() string
	// SSID is the session id (the ssid cookie value or the socket id).
	SSID() string
	// Request is the handshake request.
	Request() *http.Request
	// Address is the first X-Forwarded-For entry, else the remote IP.
	Address() string
	// ClientAddress is the first X-Forwarded-For entry, or "".
	ClientAddress() string
	// Transport is "polling" or "websocket".
	Transport() string
	// Emit queues {"event","data","cid"} with a fresh cid and returns it
	// (0 when the connection is closed). dataJSON "" omits data.
	Emit(event, dataJSON string) int64
	// Respond queues a response to the client's cid (raw JSON). It keeps none of its arguments: the caller may
	// reuse their memory once it returns.
	Respond(cidJSON, errJSON, dataJSON string)
	// SendRaw queues text as-is (the client sees a raw event).
	SendRaw(text string)
	// Close closes the connection gracefully.
	Close()
}

// Status is what worker.getStatus() and /~status report (spec 6.3).
type Status struct {
	ClientCount int `json:"clientCount"`
	HTTPRPM     int `json:"httpRPM"`
	IORPM       int `json:"ioRPM"`
}
