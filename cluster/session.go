package cluster

import (
	"net/http"

	"github.com/socketcluster-go/socketcluster/jsapi"
)

// Session ids (spec 3.4-3.5, issue 5). A session id is adopted from the n/<appName>/ssid cookie only if the
// cluster issued it, which the worker checks by asking the engine for the session's record
// (['__iocl','sed',ssid] exists: a socket was bound to it, or a page request was given it, and it has not expired).
// Anything else - a forged, malformed or expired value - starts a fresh session whose id is the new socket's id
// (128 random bits from crypto/rand). With a shared engine (store processes, Redis) the check holds cluster-wide
// and across clusters sharing a Redis, and a session survives worker crashes and restarts.

// adoptSession returns the session id of a new socket: the cookie's, if the cluster issued it, else socketID.
func (w *Worker) adoptSession(r *http.Request, socketID string) string {
	v := w.sessionFromCookie(r, socketID)
	if v != socketID && w.hub.sessionExists(v) {
		return v
	}
	return socketID
}

// pageSession gives a page request its session (spec 2.1): the issued cookie's, or a new id recorded in the
// engine and sent as Set-Cookie: n/<appName>/ssid=<id>; Path=/ (the browser client writes the cookie with
// path=/ too, so the two never coexist).
func (w *Worker) pageSession(rw http.ResponseWriter, r *http.Request) *http.Request {
	const none = "\x00"
	v := w.sessionFromCookie(r, none)
	if v != none && w.hub.sessionExists(v) {
		return jsapi.WithSession(r, v)
	}
	ssid := w.generateID(r)
	w.hub.issueSession(ssid)
	rw.Header().Add("Set-Cookie", w.ssidName+"="+ssid+"; Path=/")
	return jsapi.WithSession(r, ssid)
}
