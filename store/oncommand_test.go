package store

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// TestOnCommand: the hook sees every command a client sent, with its outcome (the store's op metrics).
func TestOnCommand(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	failed := map[string]int{}
	_, addr := startServer(t, ServerOptions{OnCommand: func(action string, err error) {
		mu.Lock()
		defer mu.Unlock()
		seen[action]++
		if err != nil {
			failed[action]++
		}
	}})
	c := dialClient(t, "tcp", addr, nil)
	ctx := context.Background()
	if _, err := c.Set(ctx, Key{"a"}, json.RawMessage(`1`), true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, Key{"a"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "ch", json.RawMessage(`"x"`)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(ctx, `function () { throw new Error('no'); }`, RunOptions{}); err == nil {
		t.Fatal("throwing run did not fail")
	}
	waitFor(t, "the publish to be counted", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[ActionPublish] == 1
	})
	mu.Lock()
	defer mu.Unlock()
	for action, want := range map[string]int{ActionSet: 1, ActionGet: 1, ActionRun: 1, ActionPublish: 1} {
		if seen[action] != want {
			t.Errorf("%s counted %d times, want %d (all: %v)", action, seen[action], want, seen)
		}
	}
	if failed[ActionRun] != 1 || failed[ActionSet] != 0 {
		t.Errorf("failures %v, want only run", failed)
	}
}
