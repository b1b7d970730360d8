package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestHash(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want int
	}{
		{"", 3, 0},
		{"a", 1000, 97},                  // 'a' = 97
		{"hello", 1 << 30, 99162322},     // Java "hello".hashCode()
		{"polygenelubricants", 3, 2},     // hashCode is MinInt32; |MinInt32| = 2147483648, % 3 = 2
		{"Aa", 100, 12}, {"BB", 100, 12}, // Java collision: both 2112
		{"😀", 1 << 30, (0xD83D*31 + 0xDE00)}, // one astral char = two UTF-16 units
		{"x", 0, 0},
	}
	for _, tc := range tests {
		if got := Hash(tc.s, tc.n); got != tc.want {
			t.Errorf("Hash(%q, %d) = %d, want %d", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestPrivateMapper(t *testing.T) {
	tests := []struct {
		name   string
		key    Key
		action string
		arg    string
		want   []int
	}{
		{"session key by ssid", Key{"__iocl", "sed", "abc", "x"}, ActionSet, "", []int{Hash("abc", 4)}},
		{"address by ip", Key{"__iocl", "gld", "__meta", "addresses", "10.0.0.1", "sockets"}, ActionGet, "", []int{Hash("10.0.0.1", 4)}},
		{"plain key", Key{"k"}, ActionGet, "", []int{Hash("k", 4)}},
		{"short chain to all", Key{"__iocl", "gld"}, ActionSet, "", []int{0, 1, 2, 3}},
		{"channel", nil, ActionPublish, "news", []int{Hash("news", 4)}},
		{"run without index", nil, ActionRun, "", []int{0}},
		{"run with index", nil, ActionRun, "abc", []int{Hash("abc", 4)}},
	}
	for _, tc := range tests {
		if got := PrivateMapper(tc.key, tc.action, tc.arg, 4); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := PublicMapper(Key{"__iocl", "gld", "x"}, ActionSet, "", 4); !reflect.DeepEqual(got, []int{0}) {
		t.Errorf("public mapper = %v", got)
	}
}

func TestClusterSpreadsKeys(t *testing.T) {
	const n = 3
	var servers []*Server
	var clients []*Client
	var got collector
	for i := 0; i < n; i++ {
		srv, addr := startServer(t, ServerOptions{})
		servers = append(servers, srv)
		clients = append(clients, dialClient(t, "tcp", addr, func(o *ClientOptions) { o.OnMessage = got.on }))
	}
	cl, err := NewCluster(clients, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		ssid := fmt.Sprintf("ssid-%d", i)
		key := Key{"__iocl", "sed", ssid, "v"}
		if _, err := cl.Set(ctx, key, json.RawMessage(fmt.Sprint(i)), false); err != nil {
			t.Fatal(err)
		}
		if err := cl.Expire(ctx, []Key{key[:3]}, 60); err != nil {
			t.Fatal(err)
		}
		owner := Hash(ssid, n)
		for j, srv := range servers {
			v, _ := srv.Store().Exec(&Request{Action: ActionGet, Key: keyJSON(key)})
			if (j == owner) != (v != nil) {
				t.Fatalf("%s: store %d has %s (owner %d)", ssid, j, v, owner)
			}
		}
		if v, err := cl.Get(ctx, key); err != nil || string(v) != fmt.Sprint(i) {
			t.Fatalf("get = %s %v", v, err)
		}
		if _, ok, _ := cl.GetExpiry(ctx, key[:3]); !ok {
			t.Fatalf("expiry not on the owner store")
		}
	}
	// Pub/sub: channels live on hash(channel); a subscriber on the cluster receives publishes once.
	for _, ch := range []string{"a", "b", "c", "d"} {
		if err := cl.Subscribe(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range []string{"a", "b", "c", "d"} {
		if err := cl.Publish(ctx, ch, json.RawMessage(`1`)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "4 messages", 5*time.Second, func() bool { return len(got.snapshot()) == 4 })
	// Global data with the public mapper lives on store 0; a replaced mapper moves it.
	cl.SetMapper(PublicMapper)
	cl.Set(ctx, Key{"__iocl", "gld", "x"}, json.RawMessage(`1`), false)
	if v, _ := servers[0].Store().Exec(&Request{Action: ActionGet, Key: keyJSON(Key{"__iocl", "gld", "x"})}); string(v) != "1" {
		t.Fatalf("global data not on store 0: %s", v)
	}
	cl.SetMapper(func(Key, string, string, int) []int { return []int{2} })
	cl.Set(ctx, Key{"__iocl", "gld", "y"}, json.RawMessage(`2`), false)
	if v, _ := servers[2].Store().Exec(&Request{Action: ActionGet, Key: keyJSON(Key{"__iocl", "gld", "y"})}); string(v) != "2" {
		t.Fatalf("custom mapper ignored: %s", v)
	}
}
