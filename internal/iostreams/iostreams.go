// Package iostreams carries the standard streams and the decisions that
// depend on them: terminals, colour, prompting.
package iostreams

import (
	"bytes"
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
)

// IOStreams are the streams every command writes to. Commands never touch
// os.Stdout or os.Stderr directly.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY, stderrTTY bool
	noColor                        bool
	stdinFd, stdoutFd              int
	columns                        int // $COLUMNS, or SetWidth's; 0: ask the terminal
}

// System returns the process's streams, with terminal detection and the
// NO_COLOR convention applied.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		stdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		stdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		noColor:   colorDisabled(os.Getenv),
		stdinFd:   int(os.Stdin.Fd()),
		stdoutFd:  int(os.Stdout.Fd()),
		columns:   columnsFromEnv(os.Getenv),
	}
}

// columnsFromEnv is $COLUMNS when it is a positive integer, else 0.
func columnsFromEnv(getenv func(string) string) int {
	n, err := strconv.Atoi(getenv("COLUMNS"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// colorDisabled applies NO_COLOR (no-color.org: any non-empty value turns
// colour off; an empty one does not) and TERM=dumb.
func colorDisabled(getenv func(string) string) bool {
	return getenv("NO_COLOR") != "" || getenv("TERM") == "dumb"
}

// Test returns streams backed by buffers: no terminal, no colour.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, noColor: true, stdinFd: -1, stdoutFd: -1}, in, out, errOut
}

// SetTTY marks the streams as terminals (for tests).
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// SetWidth sets the terminal width that TerminalWidth reports, as
// $COLUMNS does (for tests; 0: unknown).
func (s *IOStreams) SetWidth(columns int) { s.columns = max(columns, 0) }

// SetColor forces colour on or off (for tests).
func (s *IOStreams) SetColor(on bool) { s.noColor = !on }

// IsStdinTTY reports whether stdin is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// CanPrompt reports whether the command may ask a question: it needs a
// person at a terminal on both stdin and stderr (where prompts go).
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stderrTTY }

// ColorEnabled reports whether stdout may carry colour and other escape
// sequences: only on a terminal, never with NO_COLOR.
func (s *IOStreams) ColorEnabled() bool { return s.stdoutTTY && !s.noColor }

// ColorEnabledStderr is ColorEnabled for stderr.
func (s *IOStreams) ColorEnabledStderr() bool { return s.stderrTTY && !s.noColor }

// TerminalWidth is the width in cells that stdout's lines should fit:
// $COLUMNS when it is a positive integer (as gh does), else the width of
// stdout's terminal; 0 when unknown (stdout is not a terminal), which
// means no limit.
func (s *IOStreams) TerminalWidth() int {
	if s.columns > 0 {
		return s.columns
	}
	if !s.stdoutTTY || s.stdoutFd < 0 {
		return 0
	}
	if w, _, err := term.GetSize(s.stdoutFd); err == nil && w > 0 {
		return w
	}
	return 0
}

// StdinFd is stdin's file descriptor, or -1 for test streams.
func (s *IOStreams) StdinFd() int { return s.stdinFd }
