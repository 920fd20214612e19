package server

import (
	"io"
	"sync"
	"time"
)

// logFlushAfter is the longest a log line waits in a LogWriter.
const logFlushAfter = 50 * time.Millisecond

// logBufferMax is how many bytes a LogWriter holds before writing them out
// at once.
const logBufferMax = 32 << 10

// LogWriter batches the lines of the server's log: a busy server makes one
// write for many requests instead of one per request. A line waits at most
// logFlushAfter; Flush and Close write out what is waiting. Each Write must
// be whole lines (slog's handlers write one record per call).
type LogWriter struct {
	mu      sync.Mutex
	out     io.Writer
	after   time.Duration // how long a line may wait
	buf     []byte
	pending *time.Timer // the scheduled flush, nil when the buffer is empty
	err     error       // the first write error, reported by Flush and Close
	closed  bool        // after Close, every write goes out at once
}

// NewLogWriter returns a LogWriter that writes to out.
func NewLogWriter(out io.Writer) *LogWriter { return &LogWriter{out: out, after: logFlushAfter} }

// Write keeps p for the next flush, and flushes at once when the buffer is
// full.
func (l *LogWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	switch {
	case l.closed || len(l.buf) >= logBufferMax:
		l.flushLocked()
	case l.pending == nil:
		l.pending = time.AfterFunc(l.after, func() { l.Flush() })
	}
	return len(p), nil
}

// Flush writes out the lines waiting.
func (l *LogWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	return l.err
}

// Close writes out the lines waiting; later writes go out at once.
func (l *LogWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.flushLocked()
	return l.err
}

func (l *LogWriter) flushLocked() {
	if l.pending != nil {
		l.pending.Stop()
		l.pending = nil
	}
	if len(l.buf) == 0 {
		return
	}
	if _, err := l.out.Write(l.buf); err != nil && l.err == nil {
		l.err = err
	}
	l.buf = l.buf[:0]
}
