package engineio

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

const exampleSID = "_w0_8000_0_N7KFnyIwEOtlHb0EAAAA"

const exampleOpen = `0{"sid":"` + exampleSID + `","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":60000}`

func unhexSpaced(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func msg(d string) Packet { return Packet{Type: Message, Data: d} }

func TestOpenPacketExample(t *testing.T) {
	srv := NewServer(Config{})
	p := srv.openPacket(exampleSID, true)
	if got := string(appendStringPacket(nil, p)); got != exampleOpen {
		t.Fatalf("open packet\n got %s\nwant %s", got, exampleOpen)
	}
	if len(exampleOpen) != 108 {
		t.Fatalf("example open packet is %d bytes, spec says 108", len(exampleOpen))
	}
	bin := EncodePayloadBinary(nil, []Packet{p})
	if !bytes.HasPrefix(bin, []byte{0x00, 0x01, 0x00, 0x08, 0xFF}) || len(bin) != 113 {
		t.Fatalf("binary handshake payload: % x... (%d bytes), want prefix 00 01 00 08 ff and 113 bytes", bin[:6], len(bin))
	}
	text := EncodePayloadText(nil, []Packet{p})
	if string(text) != "108:"+exampleOpen || len(text) != 112 {
		t.Fatalf("text handshake payload %q (%d bytes)", text, len(text))
	}
	jsonp := EncodePayloadJSONP(nil, []Packet{p}, "0")
	want := `___eio[0]("108:0{\"sid\":\"` + exampleSID + `\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":60000}");`
	if string(jsonp) != want {
		t.Fatalf("jsonp\n got %s\nwant %s", jsonp, want)
	}
	if got := srv.openPacket("x", false).Data; got != `{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":60000}` {
		t.Fatalf("websocket-first open data %s", got)
	}
}

func TestEncodePayloadBinaryExamples(t *testing.T) {
	connect := `4{"event":"connect","data":{"soid":"` + exampleSID + `","appName":"myapp"},"cid":1}`
	tests := []struct {
		name string
		ps   []Packet
		want []byte
	}{
		{"noop", []Packet{{Type: Noop}}, unhexSpaced(t, "00 01 FF 36")},
		{"pong+message", []Packet{{Type: Pong}, msg(`{"cid":3}`)},
			unhexSpaced(t, "00 01 FF 33 00 01 00 FF 34 7B 22 63 69 64 22 3A 33 7D")},
		{"connect event (example A, 100 bytes)", []Packet{msg(connect[1:])},
			append([]byte{0x00, 0x09, 0x06, 0xFF}, connect...)},
		{"héllo € single UTF-8", []Packet{msg("héllo €")},
			unhexSpaced(t, "00 01 01 FF 34 68 c3 a9 6c 6c 6f 20 e2 82 ac")},
		{"binary packet", []Packet{{Type: Message, Binary: []byte{1, 2, 3}}}, []byte{0x01, 0x04, 0xFF, 0x04, 1, 2, 3}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EncodePayloadBinary(nil, tt.ps)
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got  % x\nwant % x", got, tt.want)
			}
			back, err := DecodePayloadBinary(got)
			if err != nil {
				t.Fatal(err)
			}
			if len(back) != len(tt.ps) {
				t.Fatalf("round trip: %d packets, want %d", len(back), len(tt.ps))
			}
			for i := range back {
				if !packetEqual(back[i], tt.ps[i]) {
					t.Fatalf("round trip packet %d: %+v want %+v", i, back[i], tt.ps[i])
				}
			}
		})
	}
	if n := len(EncodePayloadBinary(nil, []Packet{msg(connect[1:])})); n != 100 {
		t.Fatalf("example A connect payload is %d bytes, want 100", n)
	}
}

func TestExampleAThreePacketResponse(t *testing.T) {
	ps := []Packet{msg(`{"cid":1}`), msg(`{"event":"greet","data":"hello world","cid":2}`), msg(`{"cid":2,"data":{"pong":{"n":1}}}`)}
	got := EncodePayloadBinary(nil, ps)
	if len(got) != 103 {
		t.Fatalf("got %d bytes, spec says 103", len(got))
	}
	for _, prefix := range [][]byte{{0, 1, 0, 0xFF}, {0, 4, 7, 0xFF}, {0, 3, 4, 0xFF}} {
		if !bytes.Contains(got, prefix) {
			t.Fatalf("missing length prefix % x in % x", prefix, got)
		}
	}
}

func TestDecodePayloadBinaryExamplePOST(t *testing.T) {
	body := append([]byte{0x00, 0x02, 0x06, 0xFF}, `4{"event":"ready","cid":1}`...)
	body = append(body, 0x00, 0x04, 0x00, 0xFF)
	body = append(body, `4{"event":"ping","data":{"n":1},"cid":2}`...)
	ps, err := DecodePayloadBinary(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []Packet{msg(`{"event":"ready","cid":1}`), msg(`{"event":"ping","data":{"n":1},"cid":2}`)}
	if !reflect.DeepEqual(ps, want) {
		t.Fatalf("got %+v", ps)
	}
}

func TestEncodePayloadTextExamples(t *testing.T) {
	tests := []struct {
		name string
		ps   []Packet
		want string
	}{
		{"pong+message", []Packet{{Type: Pong}, msg(`{"cid":3}`)}, `1:310:4{"cid":3}`},
		{"noop", []Packet{{Type: Noop}}, "1:6"},
		{"empty", nil, "0:"},
		{"binary as base64", []Packet{{Type: Message, Binary: []byte("hi")}}, "6:b4aGk="},
		{"connect (example B)", []Packet{msg(`{"event":"connect","data":{"soid":"` + exampleSID + `","appName":"myapp"},"cid":1}`)},
			`96:4{"event":"connect","data":{"soid":"` + exampleSID + `","appName":"myapp"},"cid":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(EncodePayloadText(nil, tt.ps)); got != tt.want {
				t.Fatalf("got %q want %q", got, tt.want)
			}
		})
	}
}

func TestTextPayloadDoubleUTF8ContentLength(t *testing.T) {
	data := `{"event":"chat","data":"héllo €"}`
	body := EncodePayloadText(nil, []Packet{msg(data)})
	if !bytes.HasPrefix(body, []byte("37:4")) {
		t.Fatalf("prefix: %q", body[:6])
	}
	if len(body) != 45 {
		t.Fatalf("Content-Length %d, spec says 45", len(body))
	}
	if n := len([]rune(string(body))); n != 40 {
		t.Fatalf("%d characters, spec says 40", n)
	}
	ps, err := DecodePayloadText(body)
	if err != nil || len(ps) != 1 || ps[0].Data != data {
		t.Fatalf("decode: %+v %v", ps, err)
	}
}

func TestPacketWSExamples(t *testing.T) {
	mt, frame := EncodePacketWS(msg("héllo €"))
	want := unhexSpaced(t, "34 68 c3 83 c2 a9 6c 6c 6f 20 c3 a2 c2 82 c2 ac")
	if mt != websocket.TextMessage || !bytes.Equal(frame, want) {
		t.Fatalf("got %d % x", mt, frame)
	}
	p, err := DecodePacketWS(websocket.TextMessage, frame)
	if err != nil || p.Type != Message || p.Data != "héllo €" || p.Binary != nil {
		t.Fatalf("decode: %+v %v", p, err)
	}
	// Example D: a server emit of héllo € inside JSON.
	_, frame = EncodePacketWS(msg(`{"event":"x","data":"héllo €"}`))
	if !bytes.Contains(frame, unhexSpaced(t, "22 68 c3 83 c2 a9 6c 6c 6f 20 c3 a2 c2 82 c2 ac 22")) {
		t.Fatalf("example D bytes missing in % x", frame)
	}
	for _, tt := range []struct {
		p     Packet
		mt    int
		frame string
	}{
		{Packet{Type: Ping, Data: "probe"}, websocket.TextMessage, "2probe"},
		{Packet{Type: Pong, Data: "probe"}, websocket.TextMessage, "3probe"},
		{Packet{Type: Upgrade}, websocket.TextMessage, "5"},
		{Packet{Type: Message, Binary: []byte{9, 8}}, websocket.BinaryMessage, "\x04\x09\x08"},
	} {
		mt, frame := EncodePacketWS(tt.p)
		if mt != tt.mt || string(frame) != tt.frame {
			t.Errorf("%+v: got %d %q", tt.p, mt, frame)
		}
		back, err := DecodePacketWS(mt, frame)
		if err != nil || !packetEqual(back, tt.p) {
			t.Errorf("%+v: decode %+v %v", tt.p, back, err)
		}
	}
	if mt, frame := EncodePacketWSBase64(Packet{Type: Message, Binary: []byte("hi")}); mt != websocket.TextMessage || string(frame) != "b4aGk=" {
		t.Fatalf("base64 WS: %d %q", mt, frame)
	}
}

func TestDecodePacketWSErrors(t *testing.T) {
	tests := []struct {
		name  string
		mt    int
		frame []byte
	}{
		{"single-encoded UTF-8 (invalid continuation)", websocket.TextMessage, []byte("4h\xc3\xa9llo")},
		{"code point above U+00FF", websocket.TextMessage, []byte("4\xe2\x82\xac")},
		{"double decodes to invalid UTF-8", websocket.TextMessage, []byte("4\xc3\x83")},
		{"empty text", websocket.TextMessage, nil},
		{"bad type", websocket.TextMessage, []byte("7x")},
		{"letter type", websocket.TextMessage, []byte("x")},
		{"empty binary", websocket.BinaryMessage, nil},
		{"bad binary type", websocket.BinaryMessage, []byte{7, 1}},
		{"bad base64 type", websocket.TextMessage, []byte("b9AAAA")},
		{"ping frame type", websocket.PingMessage, []byte("2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodePacketWS(tt.mt, tt.frame); !errors.Is(err, ErrParse) {
				t.Fatalf("got %v, want ErrParse", err)
			}
		})
	}
}

func TestDecodePayloadBinaryErrors(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		nGood    int
		wantFail bool
	}{
		{"no 0xFF (engine.io-parser loops forever)", []byte{0x00, 0x01, 0x36}, 0, true},
		{"only flag", []byte{0x00}, 0, true},
		{"no digits", []byte{0x00, 0xFF, 0x36}, 0, true},
		{"digit above 9", []byte{0x00, 0x0A, 0xFF, 0x36}, 0, true},
		{"bad flag", []byte{0x02, 0x01, 0xFF, 0x36}, 0, true},
		{"truncated", []byte{0x00, 0x05, 0xFF, 0x34, 0x41}, 0, true},
		{"too many digits", append([]byte{0x00}, bytes.Repeat([]byte{9}, 12)...), 0, true},
		{"empty string packet", []byte{0x00, 0x00, 0xFF}, 0, true},
		{"invalid UTF-8 in string packet", []byte{0x00, 0x02, 0xFF, 0x34, 0xC3}, 0, true},
		{"good then bad", []byte{0x00, 0x01, 0xFF, 0x32, 0x00, 0x01, 0xFF, 0x39}, 1, true},
		{"empty body", nil, 0, false},
		{"leading zero digit", []byte{0x00, 0x00, 0x01, 0xFF, 0x36}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := DecodePayloadBinary(tt.body)
			if tt.wantFail != errors.Is(err, ErrParse) {
				t.Fatalf("err = %v, wantFail %v", err, tt.wantFail)
			}
			if len(ps) != tt.nGood {
				t.Fatalf("%d packets, want %d", len(ps), tt.nGood)
			}
		})
	}
}

func TestDecodePayloadText(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     []Packet
		wantFail bool
	}{
		{"pong+message", `1:310:4{"cid":3}`, []Packet{{Type: Pong}, msg(`{"cid":3}`)}, false},
		{"zero-length entries skipped", "0:1:6", []Packet{{Type: Noop}}, false},
		{"close", "1:1", []Packet{{Type: Close}}, false},
		{"base64 binary", "6:b4aGk=", []Packet{{Type: Message, Binary: []byte("hi")}}, false},
		{"double-encoded", "3:4\xc3\x83\xc2\xa9", []Packet{msg("é")}, false},
		{"empty body", "", nil, true},
		{"no colon", "12", nil, true},
		{"empty length", ":4", nil, true},
		{"non-digit length", "a:4", nil, true},
		{"short packet", "5:4ab", nil, true},
		{"trailing garbage", "1:6x", []Packet{{Type: Noop}}, true},
		{"bad packet type", "1:9", nil, true},
		{"single-encoded non-ASCII", "3:4é", nil, true},
		{"code point above U+00FF", "2:4€", nil, true},
		{"good then bad", "1:21:x", []Packet{{Type: Ping}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := DecodePayloadText([]byte(tt.body))
			if tt.wantFail != errors.Is(err, ErrParse) {
				t.Fatalf("err = %v, wantFail %v", err, tt.wantFail)
			}
			if len(ps) != len(tt.want) {
				t.Fatalf("got %+v want %+v", ps, tt.want)
			}
			for i := range ps {
				if !packetEqual(ps[i], tt.want[i]) {
					t.Fatalf("packet %d: got %+v want %+v", i, ps[i], tt.want[i])
				}
			}
		})
	}
}

func TestEncodePayloadJSONPEscapes(t *testing.T) {
	ps := []Packet{msg("a\"b\\c\nd\u2028é\x01")}
	got := string(EncodePayloadJSONP(nil, ps, "1x2"))
	// Byte string: 4 a " b \ c \n d E2 80 A8 C3 A9 01 -> 14 characters.
	want := "___eio[12](\"14:4a\\\"b\\\\c\\nd\u00e2\u0080\u00a8\u00c3\u00a9\\u0001\");"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestDecodeJSONPBody(t *testing.T) {
	tests := []struct {
		name    string
		form    string
		want    string
		wantErr error
	}{
		{"plain", "d=1%3A6", "1:6", nil},
		{"plus is space", "d=5%3A4a+b", "5:4a b", nil},
		{"escaped newline becomes newline", `d=3%3A4%5Cn`, "3:4\n", nil},
		{"escaped backslash-n stays backslash-n", `d=4%3A4%5C%5Cn`, "4:4\\n", nil},
		{"other field first", "x=1&d=1%3A6", "1:6", nil},
		{"malformed percent kept", "d=1%3A6%zz", "1:6%zz", nil},
		{"utf-8 percent", "d=3%3A4%C3%83%C2%A9", "3:4\xc3\x83\xc2\xa9", nil},
		{"no d", "x=1", "", ErrNoJSONPData},
		{"two d", "d=1&d=2", "", ErrNoJSONPData},
		{"empty form", "", "", ErrNoJSONPData},
		{"d without value", "d", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJSONPBody([]byte(tt.form))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err %v want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q want %q", got, tt.want)
			}
		})
	}
}

func TestUnescapeJSONPNewlines(t *testing.T) {
	// Client side: existing `\n` (2 chars) -> backslash+newline, then newline -> `\n`.
	clientEscape := func(s string) string {
		s = strings.ReplaceAll(s, `\n`, "\\\n")
		return strings.ReplaceAll(s, "\n", `\n`)
	}
	// (A backslash directly before a newline does not survive: a property of engine.io's scheme.)
	for _, s := range []string{"a\nb", `a\nb`, `\\n`, "x\n\n\\n\\\\n", ""} {
		if got := string(unescapeJSONPNewlines([]byte(clientEscape(s)))); got != s {
			t.Errorf("%q -> %q -> %q", s, clientEscape(s), got)
		}
	}
}

func TestInvalidUTF8DataIsSanitised(t *testing.T) {
	_, frame := EncodePacketWS(msg("a\xffb"))
	p, err := DecodePacketWS(websocket.TextMessage, frame)
	if err != nil || p.Data != "a\uFFFDb" {
		t.Fatalf("%+v %v", p, err)
	}
	body := EncodePayloadBinary(nil, []Packet{msg("a\xffb")})
	ps, err := DecodePayloadBinary(body)
	if err != nil || ps[0].Data != "a\uFFFDb" {
		t.Fatalf("%+v %v", ps, err)
	}
}

func TestBase64Lenient(t *testing.T) {
	for in, want := range map[string]string{"aGk=": "hi", "aGk": "hi", "a G\nk": "hi", "-_-_": "\xfb\xff\xbf", "": "", "aGVsbG8=": "hello", "aGk=AAAA": "hi"} {
		if got := decodeBase64Lenient([]byte(in)); string(got) != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}

func packetEqual(a, b Packet) bool {
	if a.Type != b.Type || a.Data != b.Data || (a.Binary == nil) != (b.Binary == nil) {
		return false
	}
	return bytes.Equal(a.Binary, b.Binary)
}
