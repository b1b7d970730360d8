package engineio

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gorilla/websocket"
)

func packetsEqual(a, b []Packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !packetEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func FuzzDecodePayloadBinary(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0xFF, 0x36})
	f.Add([]byte{0x00, 0x01, 0xFF, 0x33, 0x00, 0x01, 0x00, 0xFF, 0x34, 0x7B, 0x22, 0x63, 0x69, 0x64, 0x22, 0x3A, 0x33, 0x7D})
	f.Add([]byte{0x01, 0x04, 0xFF, 0x04, 1, 2, 3})
	f.Add([]byte{0x00, 0x01, 0x36})
	f.Add([]byte{0x00, 0x03, 0xFF, 'b', '4', 'A'})
	f.Add(EncodePayloadBinary(nil, []Packet{msg("héllo €"), {Type: Ping}}))
	f.Fuzz(func(t *testing.T, body []byte) {
		ps, err := DecodePayloadBinary(body)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		back, err := DecodePayloadBinary(EncodePayloadBinary(nil, ps))
		if err != nil || !packetsEqual(back, ps) {
			t.Fatalf("round trip: %+v -> %+v (%v)", ps, back, err)
		}
	})
}

func FuzzDecodePayloadText(f *testing.F) {
	f.Add([]byte(`1:310:4{"cid":3}`))
	f.Add([]byte("0:"))
	f.Add([]byte("6:b4aGk="))
	f.Add([]byte("3:4\xc3\x83\xc2\xa9"))
	f.Add([]byte("3:4é"))
	f.Add([]byte("99999999999:4"))
	f.Add(EncodePayloadText(nil, []Packet{msg(`{"event":"chat","data":"héllo €"}`)}))
	f.Fuzz(func(t *testing.T, body []byte) {
		ps, err := DecodePayloadText(body)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		back, err := DecodePayloadText(EncodePayloadText(nil, ps))
		if err != nil || !packetsEqual(back, ps) {
			t.Fatalf("round trip: %+v -> %+v (%v)", ps, back, err)
		}
		// The same packets survive the binary framing and JSONP's string literal too.
		bin, err := DecodePayloadBinary(EncodePayloadBinary(nil, ps))
		if err != nil || !packetsEqual(bin, ps) {
			t.Fatalf("binary round trip: %+v -> %+v (%v)", ps, bin, err)
		}
	})
}

func FuzzDecodePacketWS(f *testing.F) {
	f.Add(true, []byte("2probe"))
	f.Add(true, []byte("5"))
	f.Add(true, []byte("4\x68\xc3\x83\xc2\xa9"))
	f.Add(true, []byte("b4aGk="))
	f.Add(false, []byte{4, 1, 2})
	f.Add(true, []byte("4h\xc3\xa9"))
	f.Fuzz(func(t *testing.T, text bool, frame []byte) {
		mt := websocket.BinaryMessage
		if text {
			mt = websocket.TextMessage
		}
		p, err := DecodePacketWS(mt, frame)
		// The reader's path decodes in place over its scratch buffer: same packet, same verdict.
		ip, ierr := decodePacketWSInPlace(mt, append([]byte(nil), frame...))
		if (ierr == nil) != (err == nil) || (err == nil && !packetEqual(ip, p)) {
			t.Fatalf("in place: %+v (%v), copying: %+v (%v)", ip, ierr, p, err)
		}
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		for _, enc := range []func(Packet) (int, []byte){EncodePacketWS, EncodePacketWSBase64} {
			mt2, frame2 := enc(p)
			back, err := DecodePacketWS(mt2, frame2)
			if err != nil || !packetEqual(back, p) {
				t.Fatalf("round trip: %+v -> %+v (%v)", p, back, err)
			}
		}
		if mt == websocket.BinaryMessage {
			if _, frame2 := EncodePacketWS(p); !bytes.Equal(frame2, frame) {
				t.Fatalf("binary frame not reproduced: % x -> % x", frame, frame2)
			}
		}
	})
}

func FuzzDecodeJSONPBody(f *testing.F) {
	f.Add([]byte("d=1%3A6"))
	f.Add([]byte(`d=3%3A4%5Cn`))
	f.Add([]byte("x=1&d=5%3A4a+b&&"))
	f.Add([]byte("d=%zz%"))
	f.Add([]byte("d&d"))
	f.Fuzz(func(t *testing.T, form []byte) {
		text, err := DecodeJSONPBody(form)
		if err != nil {
			if !errors.Is(err, ErrNoJSONPData) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(text) > len(form) {
			t.Fatalf("decoded %d bytes from a %d-byte form", len(text), len(form))
		}
		if _, err := DecodePayloadText(text); err != nil && !errors.Is(err, ErrParse) {
			t.Fatalf("payload error %v does not wrap ErrParse", err)
		}
	})
}

func BenchmarkEncodePacketWS(b *testing.B) {
	p := msg(`{"event":"chat","data":{"from":"alice","text":"hello there, how are you?"},"cid":42}`)
	b.ReportAllocs()
	for b.Loop() {
		EncodePacketWS(p)
	}
}

func BenchmarkDecodePacketWS(b *testing.B) {
	_, frame := EncodePacketWS(msg(`{"event":"chat","data":{"from":"alice","text":"héllo there, how are you?"},"cid":42}`))
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := DecodePacketWS(websocket.TextMessage, frame); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPackets() []Packet {
	return []Packet{
		msg(`{"cid":1}`),
		msg(`{"event":"greet","data":"hello world","cid":2}`),
		msg(`{"cid":2,"data":{"pong":{"n":1}}}`),
		{Type: Pong},
	}
}

func BenchmarkEncodePayloadBinary(b *testing.B) {
	ps := benchPackets()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = EncodePayloadBinary(buf[:0], ps)
	}
}

func BenchmarkDecodePayloadBinary(b *testing.B) {
	body := EncodePayloadBinary(nil, benchPackets())
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodePayloadBinary(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePayloadText(b *testing.B) {
	ps := benchPackets()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = EncodePayloadText(buf[:0], ps)
	}
}

func BenchmarkDecodePayloadText(b *testing.B) {
	body := EncodePayloadText(nil, benchPackets())
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodePayloadText(body); err != nil {
			b.Fatal(err)
		}
	}
}
