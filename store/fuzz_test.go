package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"testing/iotest"
)

// FuzzParser feeds arbitrary bytes, delivered one byte at a time, to the frame reader, the command decoder and
// the data model: nothing may panic, and every frame either parses or fails with an error.
func FuzzParser(f *testing.F) {
	seeds := []string{
		`{"action":"init","secret":"x"}`,
		`{"id":1,"action":"set","key":["a",0,"b"],"value":{"x":[1,2,{"y":null}]},"getValue":true}`,
		`{"id":2,"action":"add","key":"l","value":1}`,
		`{"id":3,"action":"getRange","key":"l","from":1,"to":"3"}`,
		`{"id":4,"action":"removeRange","key":"o","from":"a"}`,
		`{"id":5,"action":"expire","keys":[["a"],"b",3],"seconds":1.5}`,
		`{"id":6,"action":"concat","key":[],"value":{"k":1}}`,
		`{"id":7,"action":"pop","key":[1,2,3]}`,
		`{"id":8,"action":"publish","channel":"c","value":"m"}`,
		`{"action":`,
	}
	for _, s := range seeds {
		f.Add(rawFrame(s))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := iotest.OneByteReader(bytes.NewReader(in))
		d := NewData()
		for {
			body, err := readFrame(r, 1<<16)
			if err != nil {
				return
			}
			req, err := parseRequest(body)
			if err != nil {
				continue
			}
			if req.Action == ActionRun || req.Action == ActionExpire && req.Seconds != req.Seconds {
				continue
			}
			v, err := execData(d, nil, req, 0)
			if err == nil && v != nil && !json.Valid(v) {
				t.Fatalf("invalid JSON result %q for %s", v, body)
			}
			if all := d.GetAll(); !json.Valid(all) {
				t.Fatalf("store no longer valid JSON: %q", all)
			}
		}
	})
}
