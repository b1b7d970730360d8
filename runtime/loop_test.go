package runtime

import (
	"strings"
	"testing"
)

func TestEventOrder(t *testing.T) {
	h := newHarness(t, Options{})
	h.eval(t, `
		const log = (s) => console.log(s);
		Promise.resolve().then(() => log('p'));
		process.nextTick(() => log('t'));
		setTimeout(() => log('s'), 0);
		setImmediate(() => log('i'));
		log('sync');
		setTimeout(() => log('END'), 20);
	`)
	h.waitOut(t, "END")
	if got, want := h.out.String(), "sync\nt\np\ns\ni\nEND\n"; got != want {
		t.Fatalf("order = %q, want %q", got, want)
	}
	_ = strings.Contains
}
