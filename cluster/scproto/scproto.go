// Package scproto is the SocketCluster 0.9 message codec: the JSON objects
// carried inside engine.io message packets (spec section 5.4).
//
// Decoding looks only at the envelope (event, cid, error, ns) and keeps data
// as raw JSON text, so no JavaScript value exists until a handler needs one.
package scproto

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
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

// Decode classifies text. It never fails on content a client may send:
// anything that is not a JSON object of the expected shape is raw.
// The only error is ErrEventNameTooLong.
//
// Decode makes one pass over text: it validates the whole object with the grammar encoding/json accepts (so the
// same texts are raw as with json.Unmarshal), keeps the spans of the event, data, cid and error members (matched
// case-insensitively, the last of duplicates wins, as encoding/json does) and allocates nothing but the unescaped
// event name when it has escapes.
func Decode(text string) (Message, error) {
	var env envelope
	if !env.scan(text) {
		return Message{Kind: KindRaw, Raw: text}, nil
	}
	if truthy(env.event) {
		name := eventName(env.event)
		if len(name) > MaxEventNameLength {
			return Message{}, ErrEventNameTooLong
		}
		return Message{Kind: KindEvent, Event: name, CID: nonNull(env.cid), Data: nonNull(env.data)}, nil
	}
	cid := nonNull(env.cid)
	if cid == "" {
		return Message{Kind: KindRaw, Raw: text}, nil
	}
	return Message{Kind: KindResponse, CID: cid, Data: nonNull(env.data), Error: nonNull(env.err)}, nil
}

// envelope holds the raw JSON spans of the members Decode looks at ("" when absent).
type envelope struct {
	event, data, cid, err string
}

// scan validates text as one JSON object (surrounding whitespace allowed) nested at most MaxDepth deep and fills
// the member spans. It reports false for anything else.
func (env *envelope) scan(text string) bool {
	i := SkipSpace(text, 0)
	if i >= len(text) || text[i] != '{' {
		return false
	}
	i = SkipSpace(text, i+1)
	if i < len(text) && text[i] == '}' {
		return SkipSpace(text, i+1) == len(text)
	}
	for {
		if i >= len(text) || text[i] != '"' {
			return false
		}
		keyEnd, escaped, ok := scanString(text, i)
		if !ok {
			return false
		}
		key := text[i+1 : keyEnd-1]
		if escaped {
			key = UnquoteString(text[i:keyEnd])
		}
		i = SkipSpace(text, keyEnd)
		if i >= len(text) || text[i] != ':' {
			return false
		}
		start := SkipSpace(text, i+1)
		if i, ok = ScanValue(text, start, MaxDepth-1); !ok {
			return false
		}
		switch {
		case foldEqual(key, "event"):
			env.event = text[start:i]
		case foldEqual(key, "data"):
			env.data = text[start:i]
		case foldEqual(key, "cid"):
			env.cid = text[start:i]
		case foldEqual(key, "error"):
			env.err = text[start:i]
		}
		var more bool
		if i, more, ok = afterElement(text, i, '}'); !ok {
			return false
		}
		if !more {
			return SkipSpace(text, i) == len(text)
		}
		i = SkipSpace(text, i)
	}
}

// afterElement checks what follows an object member or array element ending at s[i]: a comma (more is true) or
// the closing byte (more is false). next is just after it. Small enough to be inlined.
func afterElement(s string, i int, closing byte) (next int, more, ok bool) {
	i = SkipSpace(s, i)
	if i < len(s) {
		if s[i] == ',' {
			return i + 1, true, true
		}
		if s[i] == closing {
			return i + 1, false, true
		}
	}
	return i, false, false
}

// foldEqual reports whether key equals the lower-case ASCII name ignoring ASCII case. encoding/json also folds
// two non-ASCII letters (the Kelvin sign and the long s) onto 'k' and 's', which none of the envelope's names
// contain.
func foldEqual(key, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// SkipSpace returns the index of the first byte at or after s[i] that is not JSON whitespace.
func SkipSpace(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// ScanValue checks that a JSON value starts at s[i] (no leading whitespace) and returns the index just after it.
// Objects and arrays may nest depth more levels (0: only scalars); deeper values, and anything encoding/json
// would reject, report false.
func ScanValue(s string, i, depth int) (int, bool) {
	if i >= len(s) {
		return i, false
	}
	switch c := s[i]; {
	case c == '"':
		end, _, ok := scanString(s, i)
		return end, ok
	case c == '{':
		if depth <= 0 {
			return i, false
		}
		i = SkipSpace(s, i+1)
		if i < len(s) && s[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(s) || s[i] != '"' {
				return i, false
			}
			end, _, ok := scanString(s, i)
			if !ok {
				return i, false
			}
			i = SkipSpace(s, end)
			if i >= len(s) || s[i] != ':' {
				return i, false
			}
			if i, ok = ScanValue(s, SkipSpace(s, i+1), depth-1); !ok {
				return i, false
			}
			var more bool
			if i, more, ok = afterElement(s, i, '}'); !ok || !more {
				return i, ok
			}
			i = SkipSpace(s, i)
		}
	case c == '[':
		if depth <= 0 {
			return i, false
		}
		i = SkipSpace(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1, true
		}
		for {
			var ok, more bool
			if i, ok = ScanValue(s, i, depth-1); !ok {
				return i, false
			}
			if i, more, ok = afterElement(s, i, ']'); !ok || !more {
				return i, ok
			}
			i = SkipSpace(s, i)
		}
	case c == '-' || ('0' <= c && c <= '9'):
		return scanNumber(s, i)
	case c == 't':
		return literal(s, i, "true")
	case c == 'f':
		return literal(s, i, "false")
	case c == 'n':
		return literal(s, i, "null")
	}
	return i, false
}

func literal(s string, i int, lit string) (int, bool) {
	if len(s)-i >= len(lit) && s[i:i+len(lit)] == lit {
		return i + len(lit), true
	}
	return i, false
}

// scanNumber checks the JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return i, false
	}
	switch {
	case s[i] == '0':
		i++
	case '1' <= s[i] && s[i] <= '9':
		i = digits(s, i+1)
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// scanString checks the string literal starting at s[i] (a quote) and returns the index after its closing quote
// and whether it has escapes. Like encoding/json it accepts any byte from 0x20 up, invalid UTF-8 included.
func scanString(s string, i int) (end int, escaped, ok bool) {
	for i++; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return i + 1, escaped, true
		case c < 0x20:
			return i, escaped, false
		case c == '\\':
			escaped = true
			i++
			if i >= len(s) {
				return i, escaped, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s)-i < 5 || hex4(s[i+1:i+5]) < 0 {
					return i, escaped, false
				}
				i += 4
			default:
				return i, escaped, false
			}
		}
	}
	return i, escaped, false
}

func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// UnquoteString decodes a valid JSON string literal (quotes included) exactly as encoding/json does: a \u escape
// of a surrogate that is not part of a valid pair, and every byte of invalid UTF-8, become U+FFFD.
func UnquoteString(lit string) string {
	s := lit[1 : len(lit)-1]
	plain := true
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain || (strings.IndexByte(s, '\\') < 0 && utf8.ValidString(s)) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			i++
			switch s[i] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s[i+1 : i+5])
				i += 4
				if utf16.IsSurrogate(r) {
					if len(s)-i >= 7 && s[i+1] == '\\' && s[i+2] == 'u' {
						if r2 := hex4(s[i+3 : i+7]); r2 >= 0 {
							if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
								b = utf8.AppendRune(b, dec)
								i += 7
								continue
							}
						}
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
			default: // '"', '\\', '/'
				b = append(b, s[i])
			}
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, unicode.ReplacementChar)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return string(b)
}

func nonNull(r string) string {
	if r == "null" {
		return ""
	}
	return r
}

// truthy applies JavaScript truthiness to a JSON value.
func truthy(r string) bool {
	switch r {
	case "", "null", "false", `""`, "0", "-0":
		return false
	}
	if r[0] == '-' || (r[0] >= '0' && r[0] <= '9') {
		f, err := strconv.ParseFloat(r, 64)
		return err == nil && f != 0
	}
	return true
}

// eventName turns the JSON event value into the string a JavaScript
// receiver would use as a property key.
func eventName(r string) string {
	if r[0] == '"' {
		return UnquoteString(r)
	}
	return r
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
