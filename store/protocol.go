package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Protocol limits.
const (
	// DefaultMaxFrameSize bounds one frame's JSON body in bytes.
	DefaultMaxFrameSize = 16 << 20
	// frameHeaderSize is the length prefix: a big-endian uint32.
	frameHeaderSize = 4
)

// Actions of the store protocol (nData names).
const (
	ActionInit        = "init"
	ActionSet         = "set"
	ActionAdd         = "add"
	ActionConcat      = "concat"
	ActionGet         = "get"
	ActionGetRange    = "getRange"
	ActionGetAll      = "getAll"
	ActionCount       = "count"
	ActionHasKey      = "hasKey"
	ActionRemove      = "remove"
	ActionRemoveRange = "removeRange"
	ActionRemoveAll   = "removeAll"
	ActionPop         = "pop"
	ActionExpire      = "expire"
	ActionUnexpire    = "unexpire"
	ActionGetExpiry   = "getExpiry"
	ActionRun         = "run"
	ActionSubscribe   = "subscribe"
	ActionUnsubscribe = "unsubscribe"
	ActionPublish     = "publish"
)

// Actions lists every action above (the label values of the store's op metrics).
var Actions = []string{ActionInit, ActionSet, ActionAdd, ActionConcat, ActionGet, ActionGetRange, ActionGetAll,
	ActionCount, ActionHasKey, ActionRemove, ActionRemoveRange, ActionRemoveAll, ActionPop, ActionExpire,
	ActionUnexpire, ActionGetExpiry, ActionRun, ActionSubscribe, ActionUnsubscribe, ActionPublish}

// Frame types sent by the server.
const (
	TypeResponse = "response"
	TypeMessage  = "message"
)

// Protocol errors.
var (
	// ErrFrameTooLarge is returned for a frame longer than the limit.
	ErrFrameTooLarge = errors.New("store: frame too large")
	// ErrBadFrame is returned for a frame whose body is not a command object.
	ErrBadFrame = errors.New("store: malformed frame")
	// ErrUnknownAction is returned for an action the store does not know.
	ErrUnknownAction = errors.New("nData Error - unknown action")
	// ErrNotInitialized is returned for a command sent before the init handshake.
	ErrNotInitialized = errors.New("nData Error - Cannot process command before init handshake")
	// ErrBadSecret is returned when the init handshake carries the wrong secret.
	ErrBadSecret = errors.New("nData Error - Invalid password")
)

// Request is one command frame sent by a client.
type Request struct {
	ID       uint64            `json:"id"`
	Action   string            `json:"action"`
	Key      json.RawMessage   `json:"key,omitempty"`
	Keys     []json.RawMessage `json:"keys,omitempty"`
	Value    json.RawMessage   `json:"value,omitempty"`
	From     json.RawMessage   `json:"from,omitempty"`
	To       json.RawMessage   `json:"to,omitempty"`
	Seconds  float64           `json:"seconds,omitempty"`
	GetValue bool              `json:"getValue,omitempty"`
	NoAck    bool              `json:"noAck,omitempty"`
	Source   string            `json:"source,omitempty"`
	BaseKey  json.RawMessage   `json:"baseKey,omitempty"`
	Data     json.RawMessage   `json:"data,omitempty"`
	Channel  string            `json:"channel,omitempty"`
	Secret   string            `json:"secret,omitempty"`

	mapIndex string // Cluster routing of run; not sent
}

// Response is a frame sent by the server: the answer to request ID (Type "response") or a published message
// (Type "message", with Channel and Value).
type Response struct {
	ID      uint64          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Action  string          `json:"action,omitempty"`
	Channel string          `json:"channel,omitempty"`
	Value   json.RawMessage `json:"value,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// readFrame reads one length-prefixed frame body into a fresh slice.
func readFrame(r io.Reader, max int) ([]byte, error) {
	var hdr [frameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrFrameTooLarge, n, max)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// appendFrame appends the frame of v (JSON) to dst.
func appendFrame(dst []byte, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...), nil
}

// parseRequest decodes a frame body into a Request.
func parseRequest(body []byte) (*Request, error) {
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFrame, err)
	}
	if req.Action == "" {
		return nil, fmt.Errorf("%w: missing action", ErrBadFrame)
	}
	return &req, nil
}

// parseResponse decodes a frame body into a Response.
func parseResponse(body []byte) (*Response, error) {
	var res Response
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFrame, err)
	}
	return &res, nil
}
