package scproto

import (
	"encoding/json"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Message
	}{
		{"event with cid", `{"event":"ping","data":{"n":1},"cid":2}`, Message{Kind: KindEvent, Event: "ping", Data: `{"n":1}`, CID: "2"}},
		{"ready no data", `{"event":"ready","cid":1}`, Message{Kind: KindEvent, Event: "ready", CID: "1"}},
		{"profile A string cid", `{"ns":"__","event":"x","data":1,"cid":"__-3"}`, Message{Kind: KindEvent, Event: "x", Data: "1", CID: `"__-3"`}},
		{"response data", `{"cid":3,"data":"ok"}`, Message{Kind: KindResponse, CID: "3", Data: `"ok"`}},
		{"response error", `{"cid":4,"error":"nope","data":1}`, Message{Kind: KindResponse, CID: "4", Error: `"nope"`, Data: "1"}},
		{"empty event is not event", `{"event":"","cid":5}`, Message{Kind: KindResponse, CID: "5"}},
		{"no cid no event is raw", `{"a":1}`, Message{Kind: KindRaw, Raw: `{"a":1}`}},
		{"null cid is raw", `{"cid":null}`, Message{Kind: KindRaw, Raw: `{"cid":null}`}},
		{"not json", `hello`, Message{Kind: KindRaw, Raw: `hello`}},
		{"broken json", `{"event":`, Message{Kind: KindRaw, Raw: `{"event":`}},
		{"array", `[1,2]`, Message{Kind: KindRaw, Raw: `[1,2]`}},
		{"numeric event", `{"event":5,"cid":1}`, Message{Kind: KindEvent, Event: "5", CID: "1"}},
		{"zero event falsy", `{"event":0,"cid":1}`, Message{Kind: KindResponse, CID: "1"}},
		{"unicode", `{"event":"é","data":"𝄞"}`, Message{Kind: KindEvent, Event: "é", Data: `"𝄞"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Decode(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	long := make([]byte, MaxEventNameLength+1)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := Decode(`{"event":"` + string(long) + `"}`); err != ErrEventNameTooLong {
		t.Fatalf("long name: err = %v", err)
	}
	deep := ""
	for i := 0; i < MaxDepth+1; i++ {
		deep += "["
	}
	m, err := Decode(`{"event":"x","data":` + deep + `}`)
	if err != nil || m.Kind != KindRaw {
		t.Fatalf("deep: %+v %v", m, err)
	}
}

func TestAppendEvent(t *testing.T) {
	got := string(AppendEvent(nil, "connect", `{"soid":"a","appName":"b"}`, 1))
	want := `{"event":"connect","data":{"soid":"a","appName":"b"},"cid":1}`
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	if got := string(AppendEvent(nil, `we"ird`, "", 7)); got != `{"event":"we\"ird","cid":7}` {
		t.Fatalf("got %s", got)
	}
}

func TestAppendResponse(t *testing.T) {
	cases := map[string][3]string{
		`{"cid":1}`:                      {"1", "", ""},
		`{"cid":2,"data":{"pong":1}}`:    {"2", "", `{"pong":1}`},
		`{"cid":"__-1","error":"x"}`:     {`"__-1"`, `"x"`, ""},
		`{"cid":3,"error":"e","data":5}`: {"3", `"e"`, "5"},
	}
	for want, in := range cases {
		if got := string(AppendResponse(nil, in[0], in[1], in[2])); got != want {
			t.Errorf("got %s want %s", got, want)
		}
	}
}

func TestAppendStringMatchesJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x1f\n\t\r\b\f", "héllo € 𝄞", "\u2028"} {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Errorf("AppendString(%q) = %s (back %q, %v)", s, got, back, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"event":"a","data":1,"cid":1}`, `{"cid":1,"error":"x"}`, `raw`, `{"event":{}}`, `[[[[`, `{"event":"\ud800"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Decode(s)
		if err != nil {
			return
		}
		switch m.Kind {
		case KindEvent:
			if m.Event == "" {
				t.Fatal("event kind with empty name")
			}
		case KindResponse:
			if m.CID == "" {
				t.Fatal("response without cid")
			}
		case KindRaw:
			if m.Raw != s {
				t.Fatal("raw must keep the text")
			}
		}
		out := AppendEvent(nil, m.Event, m.Data, 1)
		if m.Kind == KindEvent && !json.Valid(out) {
			t.Fatalf("re-encoded event invalid: %s", out)
		}
	})
}

func BenchmarkDecodeEvent(b *testing.B) {
	msg := `{"event":"echo","data":{"n":12345,"text":"hello world"},"cid":42}`
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendEvent(buf[:0], "echo", `{"n":12345,"text":"hello world"}`, int64(i+1))
	}
}
