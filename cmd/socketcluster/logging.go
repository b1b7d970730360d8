package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// lineHandler writes one line per record: time, level, process tag,
// message, then key=value attributes. One mutex keeps lines whole.
type lineHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Level
	proc  string
	attrs []slog.Attr
}

func newLineHandler(w io.Writer, level slog.Level) *lineHandler {
	return &lineHandler{mu: &sync.Mutex{}, w: w, level: level}
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Time.Format(time.TimeOnly))
	b.WriteByte(' ')
	b.WriteString(r.Level.String())
	if h.proc != "" {
		b.WriteString(" [")
		b.WriteString(h.proc)
		b.WriteByte(']')
	}
	b.WriteByte(' ')
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Any())
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), nil...)
	for _, a := range as {
		if a.Key == "proc" {
			n.proc = a.Value.String()
			continue
		}
		n.attrs = append(n.attrs, a)
	}
	return &n
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }
