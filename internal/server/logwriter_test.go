package server

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingBuffer is a bytes.Buffer, safe for concurrent use, that counts the
// writes it gets.
type countingBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *countingBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *countingBuffer) snapshot() (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.writes
}

// Lines written together reach the output in one write, in order.
func TestLogWriterBatchesLines(t *testing.T) {
	out := &countingBuffer{}
	lw := NewLogWriter(out)
	lw.after = time.Hour // only Flush writes out here
	var want strings.Builder
	for i := range 100 {
		line := strings.Repeat("x", i%7) + "line\n"
		want.WriteString(line)
		if n, err := lw.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got, writes := out.snapshot(); writes != 0 {
		t.Fatalf("written before the flush: %d writes, %q", writes, got)
	}
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, writes := out.snapshot(); got != want.String() || writes != 1 {
		t.Errorf("after Flush: %d writes of %q; want 1 of %q", writes, got, want.String())
	}
}

// A line does not wait for more: it goes out by itself after a moment.
func TestLogWriterFlushesOnItsOwn(t *testing.T) {
	out := &countingBuffer{}
	lw := NewLogWriter(out)
	defer lw.Close()
	lw.Write([]byte("alone\n"))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(logFlushAfter / 5) {
		if got, _ := out.snapshot(); got == "alone\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the line was not written out within 10 s")
		}
	}
}

// A full buffer is written out at once, without waiting.
func TestLogWriterFlushesFullBuffer(t *testing.T) {
	out := &countingBuffer{}
	lw := NewLogWriter(out)
	lw.after = time.Hour
	line := strings.Repeat("y", 1023) + "\n"
	for range logBufferMax / len(line) {
		lw.Write([]byte(line))
	}
	got, writes := out.snapshot()
	if writes != 1 || len(got) != logBufferMax {
		t.Errorf("full buffer: %d writes, %d bytes; want 1 write of %d", writes, len(got), logBufferMax)
	}
}

// Close writes out what waits, and every later line goes out at once.
func TestLogWriterClose(t *testing.T) {
	out := &countingBuffer{}
	lw := NewLogWriter(out)
	lw.after = time.Hour
	lw.Write([]byte("before close\n"))
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	if got, writes := out.snapshot(); got != "before close\n" || writes != 1 {
		t.Fatalf("Close: %d writes of %q", writes, got)
	}
	lw.Write([]byte("after close\n"))
	if got, writes := out.snapshot(); got != "before close\nafter close\n" || writes != 2 {
		t.Errorf("after Close: %d writes of %q", writes, got)
	}
}
