package engineio

import (
	"bytes"
	"testing"

	"github.com/gorilla/websocket"
)

// TestAppendPacketWSReusedBuffer: the writer's pooled scratch path (appendPacketWS into a buffer holding an
// earlier, longer frame) yields exactly the frames of the fresh-buffer encoder, byte for byte, on the ASCII fast
// path and on the double-UTF-8 path.
func TestAppendPacketWSReusedBuffer(t *testing.T) {
	tests := []struct {
		name  string
		p     Packet
		b64   bool
		mt    int
		frame string
	}{
		{"ascii", Packet{Type: Message, Data: `{"event":"x","data":1,"cid":7}`}, false, websocket.TextMessage, `4{"event":"x","data":1,"cid":7}`},
		{"empty", Packet{Type: Pong}, false, websocket.TextMessage, "3"},
		{"latin1 doubled", Packet{Type: Message, Data: "é"}, false, websocket.TextMessage, "4\xc3\x83\xc2\xa9"},
		{"invalid utf-8 replaced", Packet{Type: Message, Data: "a\xffb"}, false, websocket.TextMessage, "4a\xc3\xaf\xc2\xbf\xc2\xbdb"},
		{"binary", Packet{Type: Message, Binary: []byte{1, 2}}, false, websocket.BinaryMessage, "\x04\x01\x02"},
		{"binary b64", Packet{Type: Message, Binary: []byte("hi")}, true, websocket.TextMessage, "b4aGk="},
	}
	scratch := bytes.Repeat([]byte{'z'}, 256)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantMT, want := encodePacketWS(tt.p, tt.b64)
			if wantMT != tt.mt || string(want) != tt.frame {
				t.Fatalf("encodePacketWS = %d %q, want %d %q", wantMT, want, tt.mt, tt.frame)
			}
			mt, got := appendPacketWS(scratch[:0], tt.p, tt.b64)
			if mt != tt.mt || string(got) != tt.frame {
				t.Fatalf("appendPacketWS into a reused buffer = %d %q, want %d %q", mt, got, tt.mt, tt.frame)
			}
			if len(got) > 0 && &got[0] != &scratch[0] {
				t.Errorf("a frame that fits was not written into the reused buffer")
			}
		})
	}
}
