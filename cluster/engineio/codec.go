package engineio

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// PacketType is the engine.io packet type (the leading digit of a string packet, the first byte of a binary packet).
type PacketType byte

// engine.io protocol packet types (engine.io-parser 1.0.6).
const (
	Open    PacketType = 0
	Close   PacketType = 1
	Ping    PacketType = 2
	Pong    PacketType = 3
	Message PacketType = 4
	Upgrade PacketType = 5
	Noop    PacketType = 6
)

// maxPacketType is the highest valid packet type.
const maxPacketType = Noop

var packetTypeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the engine.io name of t ("open", "message", ...).
func (t PacketType) String() string {
	if t <= maxPacketType {
		return packetTypeNames[t]
	}
	return fmt.Sprintf("PacketType(%d)", byte(t))
}

// Packet is one engine.io packet.
//
// A string packet has Binary == nil and carries Data, which is ordinary (proper) UTF-8 text: the UTF-8 pre-encoding
// of engine.io-parser 1.0.6 is applied by the encoders and reversed by the decoders. A binary packet has a non-nil
// Binary (possibly empty) and an empty Data.
type Packet struct {
	Type   PacketType
	Data   string
	Binary []byte
}

// IsBinary reports whether p is a binary packet.
func (p Packet) IsBinary() bool { return p.Binary != nil }

// size is the number of bytes p accounts for in an outbound queue.
func (p Packet) size() int { return 1 + len(p.Data) + len(p.Binary) }

var (
	// ErrParse is returned (wrapped) for every malformed packet, payload or form body. engine.io 1.3.1 closes the
	// socket with reason "parse error" when it meets one.
	ErrParse = errors.New("engineio: parse error")
	// ErrNoJSONPData is returned by DecodeJSONPBody when the form has no single `d` field; engine.io 1.3.1 then
	// silently ignores the request body (no packets, no error to the socket).
	ErrNoJSONPData = errors.New("engineio: JSONP form without a single d field")
)

func parseErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrParse}, args...)...)
}

// validData returns d, with invalid UTF-8 replaced by U+FFFD so that peers can always decode it.
func validData(d string) string {
	if utf8.ValidString(d) {
		return d
	}
	return strings.ToValidUTF8(d, "\uFFFD")
}

// singleLen is the length of the "byte string" of a string packet: type digit plus the UTF-8 bytes of the data.
// Every engine.io length prefix counts these bytes.
func singleLen(p Packet) int { return 1 + len(validData(p.Data)) }

// doubleLen is the number of bytes s occupies once each of its bytes is written as one UTF-8 encoded character.
func doubleLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			n++
		}
	}
	return n
}

// appendDouble appends s, a byte string, with every byte written as the UTF-8 encoding of the code point of
// that value (the second UTF-8 layer of text channels).
func appendDouble(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x80 {
			dst = append(dst, b)
		} else {
			dst = append(dst, 0xC0|b>>6, 0x80|b&0x3F)
		}
	}
	return dst
}

// undouble reverses appendDouble: it decodes text as UTF-8 and maps every code point (which must be <= 0xFF) to
// one byte. Anything else (invalid UTF-8, a code point above 0xFF) is a parse error.
func undouble(text []byte) ([]byte, error) {
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		b := text[i]
		switch {
		case b < 0x80:
			out = append(out, b)
		case (b == 0xC2 || b == 0xC3) && i+1 < len(text) && text[i+1]&0xC0 == 0x80:
			out = append(out, (b&0x03)<<6|text[i+1]&0x3F)
			i++
		default:
			return nil, parseErr("character above U+00FF or invalid UTF-8 at byte %d of a text frame/payload", i)
		}
	}
	return out, nil
}

// appendStringPacket appends the byte string (single UTF-8) of a string packet.
func appendStringPacket(dst []byte, p Packet) []byte {
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, validData(p.Data)...)
}

// appendBase64Packet appends the text form of a binary packet: `b<type digit><standard base64>`.
func appendBase64Packet(dst []byte, p Packet) []byte {
	dst = append(dst, 'b', '0'+byte(p.Type))
	return appendBase64(dst, p.Binary)
}

// decodeStringPacket decodes a string packet from its byte string (single UTF-8), as engine.io-parser's
// decodePacket does for strings: a leading 'b' means a base64 binary packet, otherwise a type digit 0-6 followed
// by UTF-8 data.
func decodeStringPacket(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, parseErr("empty packet")
	}
	if b[0] == 'b' {
		if len(b) < 2 || b[1] < '0' || b[1] > '0'+byte(maxPacketType) {
			return Packet{}, parseErr("bad base64 packet type")
		}
		return Packet{Type: PacketType(b[1] - '0'), Binary: decodeBase64Lenient(b[2:])}, nil
	}
	if b[0] < '0' || b[0] > '0'+byte(maxPacketType) {
		return Packet{}, parseErr("bad packet type %q", b[0])
	}
	if !utf8.Valid(b[1:]) {
		return Packet{}, parseErr("packet data is not valid UTF-8")
	}
	return Packet{Type: PacketType(b[0] - '0'), Data: string(b[1:])}, nil
}

// decodeBinaryPacket decodes a raw binary packet: the type as a byte followed by the data.
func decodeBinaryPacket(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, parseErr("empty binary packet")
	}
	if PacketType(b[0]) > maxPacketType {
		return Packet{}, parseErr("bad binary packet type %d", b[0])
	}
	return Packet{Type: PacketType(b[0]), Binary: append([]byte{}, b[1:]...)}, nil
}

// EncodePacketWS encodes p as one WebSocket message: a text frame carrying the double-UTF-8 string packet, or a
// binary frame (type byte + bytes) for a binary packet.
func EncodePacketWS(p Packet) (messageType int, frame []byte) {
	return encodePacketWS(p, false)
}

// EncodePacketWSBase64 is EncodePacketWS for a WebSocket opened with `b64`: binary packets travel as text frames
// `b<type><base64>`.
func EncodePacketWSBase64(p Packet) (messageType int, frame []byte) {
	return encodePacketWS(p, true)
}

func encodePacketWS(p Packet, b64 bool) (int, []byte) {
	return appendPacketWS(nil, p, b64)
}

// appendPacketWS is encodePacketWS appending the frame to dst (which may be a reused buffer).
func appendPacketWS(dst []byte, p Packet, b64 bool) (int, []byte) {
	if p.IsBinary() {
		if b64 {
			return websocket.TextMessage, appendBase64Packet(dst, p)
		}
		return websocket.BinaryMessage, append(append(dst, byte(p.Type)), p.Binary...)
	}
	if isASCII(p.Data) {
		// valid UTF-8, and doubling leaves every byte as it is
		return websocket.TextMessage, append(append(dst, '0'+byte(p.Type)), p.Data...)
	}
	d := validData(p.Data)
	if dst == nil {
		dst = make([]byte, 0, 1+doubleLen(d))
	}
	dst = append(dst, '0'+byte(p.Type))
	return websocket.TextMessage, appendDouble(dst, d)
}

// isASCII reports whether every byte of s is below 0x80.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// DecodePacketWS decodes one WebSocket message. Text frames carry double-UTF-8 string packets (or `b`+base64
// binary packets); binary frames carry raw binary packets.
func DecodePacketWS(messageType int, frame []byte) (Packet, error) {
	switch messageType {
	case websocket.TextMessage:
		b, err := undouble(frame)
		if err != nil {
			return Packet{}, err
		}
		return decodeStringPacket(b)
	case websocket.BinaryMessage:
		return decodeBinaryPacket(frame)
	default:
		return Packet{}, parseErr("unexpected WebSocket message type %d", messageType)
	}
}

// decodePacketWSInPlace is DecodePacketWS for a frame in a scratch buffer: the second UTF-8 layer of a text
// frame is undone in place (frame is overwritten), and the packet copies what it keeps (one allocation: its
// Data string or Binary bytes).
func decodePacketWSInPlace(messageType int, frame []byte) (Packet, error) {
	switch messageType {
	case websocket.TextMessage:
		b, err := undoubleInPlace(frame)
		if err != nil {
			return Packet{}, err
		}
		return decodeStringPacket(b)
	case websocket.BinaryMessage:
		return decodeBinaryPacket(frame)
	default:
		return Packet{}, parseErr("unexpected WebSocket message type %d", messageType)
	}
}

// undoubleInPlace is undouble writing its result over text (the result is never longer).
func undoubleInPlace(text []byte) ([]byte, error) {
	i := 0
	for i < len(text) && text[i] < 0x80 {
		i++
	}
	if i == len(text) {
		return text, nil // ASCII: nothing to undo
	}
	j := i
	for ; i < len(text); i++ {
		b := text[i]
		switch {
		case b < 0x80:
			text[j] = b
		case (b == 0xC2 || b == 0xC3) && i+1 < len(text) && text[i+1]&0xC0 == 0x80:
			text[j] = (b&0x03)<<6 | text[i+1]&0x3F
			i++
		default:
			return nil, parseErr("character above U+00FF or invalid UTF-8 at byte %d of a text frame/payload", i)
		}
		j++
	}
	return text[:j], nil
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// appendBase64 appends standard, padded base64 (Node's Buffer#toString('base64')).
func appendBase64(dst []byte, src []byte) []byte {
	for len(src) >= 3 {
		v := uint(src[0])<<16 | uint(src[1])<<8 | uint(src[2])
		dst = append(dst, base64Alphabet[v>>18&63], base64Alphabet[v>>12&63], base64Alphabet[v>>6&63], base64Alphabet[v&63])
		src = src[3:]
	}
	switch len(src) {
	case 1:
		v := uint(src[0]) << 16
		dst = append(dst, base64Alphabet[v>>18&63], base64Alphabet[v>>12&63], '=', '=')
	case 2:
		v := uint(src[0])<<16 | uint(src[1])<<8
		dst = append(dst, base64Alphabet[v>>18&63], base64Alphabet[v>>12&63], base64Alphabet[v>>6&63], '=')
	}
	return dst
}

// decodeBase64Lenient decodes base64 the way Node's Buffer does: both alphabets, characters outside them skipped,
// decoding stops at the first '='. It never fails and always returns a non-nil slice.
func decodeBase64Lenient(s []byte) []byte {
	out := make([]byte, 0, len(s)*3/4)
	var acc uint
	n := 0
	for _, c := range s {
		var v uint
		switch {
		case c >= 'A' && c <= 'Z':
			v = uint(c - 'A')
		case c >= 'a' && c <= 'z':
			v = uint(c-'a') + 26
		case c >= '0' && c <= '9':
			v = uint(c-'0') + 52
		case c == '+' || c == '-':
			v = 62
		case c == '/' || c == '_':
			v = 63
		case c == '=':
			return flushBase64(out, acc, n)
		default:
			continue
		}
		acc = acc<<6 | v
		n++
		if n == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	return flushBase64(out, acc, n)
}

// flushBase64 appends the bytes of an incomplete final group of n (2 or 3) sextets.
func flushBase64(out []byte, acc uint, n int) []byte {
	switch n {
	case 2:
		out = append(out, byte(acc>>4))
	case 3:
		out = append(out, byte(acc>>10), byte(acc>>2))
	}
	return out
}
