// Package scproto is the SocketCluster 0.9 message codec: the JSON objects
// carried inside engine.io message packets (spec section 5.4).
//
// Decoding looks only at the envelope (event, cid, error, ns) and keeps data
// as raw JSON text, so no JavaScript value exists until a handler needs one.
package scproto

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// Kind tells what an inbound message is, by the receiver rule of spec 5.4.2:
// a truthy event makes an event; otherwise a null/absent cid makes raw text;
// otherwise it is a response matched by cid.
type Kind uint8

const (
	KindRaw Kind = iota
	KindEvent
	KindResponse
)

func (k Kind) String() string {
	switch k {
	case KindEvent:
		return "event"
	case KindResponse:
		return "response"
	default:
		return "raw"
	}
}

// MaxEventNameLength bounds event and channel names accepted from clients.
const MaxEventNameLength = 1024

// MaxDepth bounds JSON nesting accepted from clients; deeper messages are
// treated as raw text and never parsed into JavaScript objects.
const MaxDepth = 64

// ErrEventNameTooLong is returned for an event name over MaxEventNameLength.
var ErrEventNameTooLong = errors.New("scproto: event name too long")

// Message is one decoded inbound SC message.
type Message struct {
	Kind Kind
	// Event is the event name (KindEvent).
	Event string
	// CID is the raw JSON of the cid ("" when absent or null). Profile B
	// clients send integers; Profile A clients send strings. Responses echo
	// it verbatim so both kinds work.
	CID string
	// Data is the raw JSON of data ("" when absent).
	Data string
	// Error is the raw JSON of error ("" when absent) (KindResponse).
	Error string
	// Raw is the whole text (KindRaw).
	Raw string
}

type envelope struct {
	Event json.RawMessage `json:"event"`
	Data  json.RawMessage `json:"data"`
	CID   json.RawMessage `json:"cid"`
	Error json.RawMessage `json:"error"`
}

// Decode classifies text. It never fails on content a client may send:
// anything that is not a JSON object of the expected shape is raw.
// The only error is ErrEventNameTooLong.
func Decode(text string) (Message, error) {
	if !looksLikeObject(text) || depthExceeds(text, MaxDepth) {
		return Message{Kind: KindRaw, Raw: text}, nil
	}
	var env envelope
	if err := json.Unmarshal([]byte(text), &env); err != nil {
		return Message{Kind: KindRaw, Raw: text}, nil
	}
	if truthy(env.Event) {
		name := eventName(env.Event)
		if len(name) > MaxEventNameLength {
			return Message{}, ErrEventNameTooLong
		}
		return Message{Kind: KindEvent, Event: name, CID: nonNull(env.CID), Data: nonNull(env.Data)}, nil
	}
	cid := nonNull(env.CID)
	if cid == "" {
		return Message{Kind: KindRaw, Raw: text}, nil
	}
	return Message{Kind: KindResponse, CID: cid, Data: nonNull(env.Data), Error: nonNull(env.Error)}, nil
}

func looksLikeObject(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// depthExceeds reports whether the bracket nesting of s goes over max,
// skipping string contents. It is a cheap guard run before json.Unmarshal.
func depthExceeds(s string, max int) bool {
	depth := 0
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > max {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

func nonNull(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	return string(r)
}

// truthy applies JavaScript truthiness to a JSON value.
func truthy(r json.RawMessage) bool {
	if len(r) == 0 {
		return false
	}
	switch string(r) {
	case "null", "false", `""`, "0", "-0":
		return false
	}
	if r[0] == '-' || (r[0] >= '0' && r[0] <= '9') {
		f, err := strconv.ParseFloat(string(r), 64)
		return err == nil && f != 0
	}
	return true
}

// eventName turns the JSON event value into the string a JavaScript
// receiver would use as a property key.
func eventName(r json.RawMessage) string {
	if r[0] == '"' {
		var s string
		if json.Unmarshal(r, &s) == nil {
			return s
		}
	}
	return string(r)
}

// AppendEvent appends {"event":<event>,"data":<data>,"cid":<cid>} with the key
// order of the original server. dataJSON "" omits data; cid 0 omits cid.
func AppendEvent(dst []byte, event string, dataJSON string, cid int64) []byte {
	dst = append(dst, `{"event":`...)
	dst = AppendString(dst, event)
	if dataJSON != "" {
		dst = append(dst, `,"data":`...)
		dst = append(dst, dataJSON...)
	}
	if cid != 0 {
		dst = append(dst, `,"cid":`...)
		dst = strconv.AppendInt(dst, cid, 10)
	}
	return append(dst, '}')
}

// AppendResponse appends {"cid":<cid>[,"error":<err>][,"data":<data>]}.
// cidJSON is the raw cid as received; errJSON/dataJSON "" are omitted.
func AppendResponse(dst []byte, cidJSON, errJSON, dataJSON string) []byte {
	dst = append(dst, `{"cid":`...)
	dst = append(dst, cidJSON...)
	if errJSON != "" {
		dst = append(dst, `,"error":`...)
		dst = append(dst, errJSON...)
	}
	if dataJSON != "" {
		dst = append(dst, `,"data":`...)
		dst = append(dst, dataJSON...)
	}
	return append(dst, '}')
}

// AppendString appends s as a JSON string literal, escaping as
// JSON.stringify does (control characters, quote, backslash, and lone
// surrogates are impossible in Go strings; invalid UTF-8 becomes U+FFFD).
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				const hex = "0123456789abcdef"
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Valid reports whether s is a single valid JSON value (used to check
// JSON produced by user code before it goes on the wire).
func Valid(s string) bool { return json.Valid([]byte(s)) }
