package cluster

import (
	"errors"
	"testing"
)

func TestMetricsListenAddr(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{in: "9100", want: "127.0.0.1:9100"},
		{in: "0", want: "127.0.0.1:0"},
		{in: ":9100", want: ":9100"},
		{in: "0.0.0.0:9100", want: "0.0.0.0:9100"},
		{in: "[::1]:9100", want: "[::1]:9100"},
		{in: "70000", err: true},
		{in: "-1", err: true},
		{in: "localhost", err: true},
	}
	for _, tt := range tests {
		got, err := MetricsListenAddr(tt.in)
		if tt.err {
			if !errors.Is(err, ErrMetricsListen) {
				t.Errorf("%q: err %v, want ErrMetricsListen", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNewMasterRejectsBadMetricsListen(t *testing.T) {
	_, err := NewMaster(MasterConfig{Options: Options{WorkerController: "w.js", AppName: "app"}, MetricsListen: "nonsense", Executable: "/bin/true"})
	if !errors.Is(err, ErrBadOption) || !errors.Is(err, ErrMetricsListen) {
		t.Fatalf("err %v, want ErrBadOption wrapping ErrMetricsListen", err)
	}
}
