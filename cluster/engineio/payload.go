package engineio

import (
	"strconv"
	"unicode/utf8"
)

// Payload framings of engine.io-parser 1.0.6 (polling bodies), spec 5.3.2.

const (
	binaryPayloadString = 0x00 // payload entry flag: string packet
	binaryPayloadBinary = 0x01 // payload entry flag: binary packet
	binaryPayloadSep    = 0xFF // end of the length digits

	// maxLengthDigits bounds the decimal length prefix (10 digits exceed any body we accept).
	maxLengthDigits = 10
	// maxFormPairs is the number of key/value pairs Node's querystring.parse considers (its default maxKeys).
	maxFormPairs = 1000
)

// appendBinaryLength appends n as one byte per decimal digit (values 0-9) followed by 0xFF.
func appendBinaryLength(dst []byte, n int) []byte {
	var tmp [20]byte
	digits := strconv.AppendInt(tmp[:0], int64(n), 10)
	for _, d := range digits {
		dst = append(dst, d-'0')
	}
	return append(dst, binaryPayloadSep)
}

// EncodePayloadBinary appends the binary payload framing of ps (Content-Type application/octet-stream): per
// packet a flag byte (0 string, 1 binary), the length as digit bytes, 0xFF, then the packet bytes (single UTF-8
// for string packets). An empty ps yields an empty body.
func EncodePayloadBinary(dst []byte, ps []Packet) []byte {
	for _, p := range ps {
		if p.IsBinary() {
			dst = append(dst, binaryPayloadBinary)
			dst = appendBinaryLength(dst, 1+len(p.Binary))
			dst = append(dst, byte(p.Type))
			dst = append(dst, p.Binary...)
			continue
		}
		dst = append(dst, binaryPayloadString)
		dst = appendBinaryLength(dst, singleLen(p))
		dst = appendStringPacket(dst, p)
	}
	return dst
}

// appendTextPayloadSingle appends the text payload `<len>:<packet>...` as a byte string (single UTF-8; what the
// JavaScript side holds as a string of characters 0-255).
func appendTextPayloadSingle(dst []byte, ps []Packet) []byte {
	if len(ps) == 0 {
		return append(dst, '0', ':')
	}
	for _, p := range ps {
		if p.IsBinary() {
			dst = strconv.AppendInt(dst, int64(2+base64Len(len(p.Binary))), 10)
			dst = append(dst, ':')
			dst = appendBase64Packet(dst, p)
			continue
		}
		dst = strconv.AppendInt(dst, int64(singleLen(p)), 10)
		dst = append(dst, ':')
		dst = appendStringPacket(dst, p)
	}
	return dst
}

func base64Len(n int) int { return (n + 2) / 3 * 4 }

// EncodePayloadText appends the text payload framing of ps as HTTP body bytes: `<len>:<packet>` per packet, the
// lengths counting bytes of the single-UTF-8 form, and the whole written double-UTF-8 (every non-ASCII byte of
// the byte string becomes a two-byte UTF-8 character). Binary packets appear as `b<type><base64>`. An empty ps
// yields `0:`.
func EncodePayloadText(dst []byte, ps []Packet) []byte {
	single := appendTextPayloadSingle(nil, ps)
	return appendDouble(dst, string(single))
}

// EncodePayloadJSONP appends the JSONP framing of ps: `___eio[<j>]("<text payload as a JS string literal>");`,
// where only the digits of j are kept. The literal is what JSON.stringify produces for the byte string, with
// U+2028/U+2029 escaped; characters 0x80-0xFF are written as UTF-8 (double encoding).
func EncodePayloadJSONP(dst []byte, ps []Packet, j string) []byte {
	dst = append(dst, "___eio["...)
	for i := 0; i < len(j); i++ {
		if j[i] >= '0' && j[i] <= '9' {
			dst = append(dst, j[i])
		}
	}
	dst = append(dst, "]("...)
	dst = appendJSString(dst, string(appendTextPayloadSingle(nil, ps)))
	return append(dst, ");"...)
}

const hexDigits = "0123456789abcdef"

// appendJSString appends the JSON.stringify literal of the byte string s (characters 0-255), followed by the
// U+2028/U+2029 escaping that engine.io applies (those code points cannot occur in a byte string; they are
// handled for completeness by appendJSONString).
func appendJSString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b == '"':
			dst = append(dst, '\\', '"')
		case b == '\\':
			dst = append(dst, '\\', '\\')
		case b == '\b':
			dst = append(dst, '\\', 'b')
		case b == '\f':
			dst = append(dst, '\\', 'f')
		case b == '\n':
			dst = append(dst, '\\', 'n')
		case b == '\r':
			dst = append(dst, '\\', 'r')
		case b == '\t':
			dst = append(dst, '\\', 't')
		case b < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
		case b < 0x80:
			dst = append(dst, b)
		default:
			dst = append(dst, 0xC0|b>>6, 0x80|b&0x3F)
		}
	}
	return append(dst, '"')
}

// appendJSONString appends s (proper UTF-8) as JSON.stringify would, plus U+2028/U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	s = validData(s)
	dst = append(dst, '"')
	for _, r := range s {
		switch {
		case r == '"':
			dst = append(dst, '\\', '"')
		case r == '\\':
			dst = append(dst, '\\', '\\')
		case r == '\b':
			dst = append(dst, '\\', 'b')
		case r == '\f':
			dst = append(dst, '\\', 'f')
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xF])
		case r == 0x2028:
			dst = append(dst, `\u2028`...)
		case r == 0x2029:
			dst = append(dst, `\u2029`...)
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return append(dst, '"')
}

// DecodePayloadBinary decodes a binary payload (a POST body sent with Content-Type application/octet-stream).
// An empty body holds no packets. On a malformed body it returns the packets decoded before the fault together
// with an error wrapping ErrParse (engine.io delivers those and then closes the socket with "parse error").
// Unlike engine.io-parser 1.0.6 it never loops forever (missing 0xFF, bad digits, truncation are errors).
func DecodePayloadBinary(body []byte) ([]Packet, error) {
	var ps []Packet
	for len(body) > 0 {
		flag := body[0]
		if flag != binaryPayloadString && flag != binaryPayloadBinary {
			return ps, parseErr("binary payload: bad entry flag %#x", flag)
		}
		n, i := 0, 1
		for ; i < len(body) && body[i] != binaryPayloadSep; i++ {
			if body[i] > 9 || i > maxLengthDigits {
				return ps, parseErr("binary payload: bad length digit")
			}
			n = n*10 + int(body[i])
		}
		if i == 1 || i == len(body) {
			return ps, parseErr("binary payload: missing length or 0xFF")
		}
		body = body[i+1:]
		if n > len(body) {
			return ps, parseErr("binary payload: packet of %d bytes truncated to %d", n, len(body))
		}
		var (
			p   Packet
			err error
		)
		if flag == binaryPayloadString {
			p, err = decodeStringPacket(body[:n])
		} else {
			p, err = decodeBinaryPacket(body[:n])
		}
		if err != nil {
			return ps, err
		}
		ps = append(ps, p)
		body = body[n:]
	}
	return ps, nil
}

// DecodePayloadText decodes a text payload given as HTTP body bytes (double UTF-8). Lengths count characters,
// i.e. bytes of the single-UTF-8 form; zero-length entries are skipped; an empty body is a parse error. On a
// malformed body it returns the packets decoded before the fault with an error wrapping ErrParse.
func DecodePayloadText(body []byte) ([]Packet, error) {
	if len(body) == 0 {
		return nil, parseErr("empty text payload")
	}
	var ps []Packet
	for len(body) > 0 {
		n, i := 0, 0
		for ; i < len(body) && body[i] != ':'; i++ {
			if body[i] < '0' || body[i] > '9' || i >= maxLengthDigits {
				return ps, parseErr("text payload: bad length")
			}
			n = n*10 + int(body[i]-'0')
		}
		if i == 0 || i == len(body) {
			return ps, parseErr("text payload: missing length or ':'")
		}
		body = body[i+1:]
		// Take n characters (each must be <= U+00FF) and turn them back into bytes.
		if n > len(body) { // every character takes at least one byte
			return ps, parseErr("text payload: packet truncated")
		}
		msg := make([]byte, 0, n)
		j := 0
		for k := 0; k < n; k++ {
			if j >= len(body) {
				return ps, parseErr("text payload: packet truncated")
			}
			b := body[j]
			switch {
			case b < 0x80:
				msg = append(msg, b)
				j++
			case (b == 0xC2 || b == 0xC3) && j+1 < len(body) && body[j+1]&0xC0 == 0x80:
				msg = append(msg, (b&0x03)<<6|body[j+1]&0x3F)
				j += 2
			default:
				return ps, parseErr("text payload: character above U+00FF or invalid UTF-8")
			}
		}
		body = body[j:]
		if n == 0 {
			continue
		}
		p, err := decodeStringPacket(msg)
		if err != nil {
			return ps, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// DecodeJSONPBody extracts the text payload from a JSONP POST body (application/x-www-form-urlencoded, field d)
// and undoes the client's newline escaping: a backslash+n not preceded by a backslash becomes a newline, then
// every backslash+backslash+n becomes backslash+n (engine.io 1.3.1 polling-jsonp). The result is HTTP-body-form
// text payload bytes for DecodePayloadText. A form without exactly one d field yields ErrNoJSONPData.
func DecodeJSONPBody(form []byte) ([]byte, error) {
	var (
		d     []byte
		found int
	)
	pairs := 0
	for start := 0; start <= len(form) && pairs < maxFormPairs; {
		end := start
		for end < len(form) && form[end] != '&' {
			end++
		}
		pair := form[start:end]
		start = end + 1
		if len(pair) == 0 {
			if end >= len(form) {
				break
			}
			continue
		}
		pairs++
		k, v := pair, []byte(nil)
		for i, c := range pair {
			if c == '=' {
				k, v = pair[:i], pair[i+1:]
				break
			}
		}
		if string(formUnescape(k)) == "d" {
			found++
			d = formUnescape(v)
		}
	}
	if found != 1 {
		return nil, ErrNoJSONPData
	}
	return unescapeJSONPNewlines(d), nil
}

// formUnescape decodes '+' as space and %XX sequences; malformed % sequences stay literal (Node's fallback).
func formUnescape(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			out = append(out, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// unescapeJSONPNewlines applies engine.io's two replacements: /(\\)?\\n/g (keep `\\n`, turn `\n` into a
// newline), then /\\\\n/g -> `\n`.
func unescapeJSONPNewlines(d []byte) []byte {
	first := make([]byte, 0, len(d))
	for i := 0; i < len(d); {
		switch {
		case d[i] == '\\' && i+2 < len(d) && d[i+1] == '\\' && d[i+2] == 'n':
			first = append(first, '\\', '\\', 'n')
			i += 3
		case d[i] == '\\' && i+1 < len(d) && d[i+1] == 'n':
			first = append(first, '\n')
			i += 2
		default:
			first = append(first, d[i])
			i++
		}
	}
	out := first[:0]
	for i := 0; i < len(first); {
		if first[i] == '\\' && i+2 < len(first) && first[i+1] == '\\' && first[i+2] == 'n' {
			out = append(out, '\\', 'n')
			i += 3
			continue
		}
		out = append(out, first[i])
		i++
	}
	return out
}
