package cluster

import (
	"reflect"
	"testing"
)

func TestChannelList(t *testing.T) {
	tests := []struct {
		data string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{`"a"`, []string{"a"}, true},
		{`"a\"b\u00e9"`, []string{`a"bé`}, true},
		{`["a","b"]`, []string{"a", "b"}, true},
		{`[]`, []string{}, true},
		{`5`, nil, false},
		{`{"a":1}`, nil, false},
		{`["a",1]`, nil, false},
	}
	for _, tt := range tests {
		got, ok := channelList(tt.data)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("channelList(%s) = %q, %v; want %q, %v", tt.data, got, ok, tt.want, tt.ok)
		}
	}
}
