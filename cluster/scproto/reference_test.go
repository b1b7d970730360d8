package scproto

import (
	"encoding/json"
	"strings"
	"testing"
)

// referenceDecode is the encoding/json implementation Decode replaced; FuzzDecodeMatchesReference holds the
// hand-written scanner to it.
func referenceDecode(text string) (Message, error) {
	if !strings.HasPrefix(strings.TrimLeft(text, " \t\n\r"), "{") || refDepthExceeds(text, MaxDepth) {
		return Message{Kind: KindRaw, Raw: text}, nil
	}
	var env struct {
		Event json.RawMessage `json:"event"`
		Data  json.RawMessage `json:"data"`
		CID   json.RawMessage `json:"cid"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal([]byte(text), &env); err != nil {
		return Message{Kind: KindRaw, Raw: text}, nil
	}
	if truthy(string(env.Event)) {
		name := string(env.Event)
		if env.Event[0] == '"' {
			_ = json.Unmarshal(env.Event, &name)
		}
		if len(name) > MaxEventNameLength {
			return Message{}, ErrEventNameTooLong
		}
		return Message{Kind: KindEvent, Event: name, CID: nonNull(string(env.CID)), Data: nonNull(string(env.Data))}, nil
	}
	cid := nonNull(string(env.CID))
	if cid == "" {
		return Message{Kind: KindRaw, Raw: text}, nil
	}
	return Message{Kind: KindResponse, CID: cid, Data: nonNull(string(env.Data)), Error: nonNull(string(env.Error))}, nil
}

func refDepthExceeds(s string, max int) bool {
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

var decodeSeeds = []string{
	`{"event":"a","data":1,"cid":1}`, `{"cid":1,"error":"x"}`, `raw`, `{"event":{}}`, `[[[[`, `{"event":"\ud800"}`,
	` {"event" : "e" , "data" : [1, {"a": null}] , "cid" : "__-1" } `, `{"EVENT":"up","Cid":2}`, `{"event":"a","event":"b"}`,
	`{"event":"x","data":1e400,"cid":1}`, `{"event":"\u0065\uD834\uDD1E","cid":-0}`, `{"event":"x","data":"\xff\xfe"}`,
	`{"event":0.0,"cid":1}`, `{"event":-1e-5,"cid":1}`, `{"event":"x","data":01}`, `{"event":"x","data":1.}`, `{"event":"x",}`,
	`{"event":"x"}}`, `{"\u0063id":5}`, `{"cid":5,"data":[1,2,]}`, `{"event":"x","data":"a` + "\t" + `b"}`, `{"event":true}`,
	`{"event":"x","data":{"k":[[[[[[[[]]]]]]]]}}`, `{"event":"x","data":"\/\b\f\n\r\t\"\\"}`, `{"event":"x","data":tru}`,
	`{"event":"x","data":"\u12"}`, `{"event":"x","data":"\x"}`, "{\"event\":\"x\"}\x00", `{}`, ` { } `, `{"data":null,"cid":null}`,
}

func FuzzDecodeMatchesReference(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gerr := Decode(s)
		want, werr := referenceDecode(s)
		if got != want || gerr != werr {
			t.Fatalf("Decode(%q)\n got %+v %v\nwant %+v %v", s, got, gerr, want, werr)
		}
	})
}

func TestDecodeMatchesReference(t *testing.T) {
	deep := func(n int) string {
		return `{"event":"x","data":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	cases := append([]string{deep(MaxDepth - 1), deep(MaxDepth), deep(MaxDepth + 5)}, decodeSeeds...)
	for _, s := range cases {
		got, gerr := Decode(s)
		want, werr := referenceDecode(s)
		if got != want || gerr != werr {
			t.Errorf("Decode(%q)\n got %+v %v\nwant %+v %v", s, got, gerr, want, werr)
		}
	}
	if m, _ := Decode(deep(MaxDepth - 1)); m.Kind != KindEvent {
		t.Errorf("depth %d: %+v, want an event", MaxDepth, m)
	}
	if m, _ := Decode(deep(MaxDepth)); m.Kind != KindRaw {
		t.Errorf("depth %d: %+v, want raw", MaxDepth+1, m)
	}
}

func TestUnquoteStringMatchesJSON(t *testing.T) {
	for _, lit := range []string{`""`, `"plain"`, `"\u00e9\u20ac"`, `"\ud834\udd1e"`, `"\ud834"`, `"\udd1e\ud834"`, `"\ud834\u0041"`,
		`"\ud834\ud834\udd1e"`, "\"\xff a \xed\xa0\x80\"", `"\/\b\f\n\r\t\"\\"`, `"héllo"`, `"\u0000"`} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		if got := UnquoteString(lit); got != want {
			t.Errorf("UnquoteString(%s) = %q, want %q", lit, got, want)
		}
	}
}

func FuzzUnquoteString(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud834\udd1e"`, `"\ud834x"`, "\"\xff\"", `"\u00e9"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		end, _, ok := scanString(s, 0)
		if len(s) == 0 || s[0] != '"' || !ok || end != len(s) {
			if len(s) > 1 && s[0] == '"' && s[len(s)-1] == '"' && json.Valid([]byte(s)) {
				t.Fatalf("scanString rejects valid literal %q", s)
			}
			return
		}
		var want string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("scanString accepts %q, encoding/json does not: %v", s, err)
		}
		if got := UnquoteString(s); got != want {
			t.Fatalf("UnquoteString(%q) = %q, want %q", s, got, want)
		}
	})
}
