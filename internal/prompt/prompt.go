// Package prompt asks a person at a terminal: a yes/no confirmation that
// defaults to no, and a hidden input for one-time codes and secrets.
// Questions go to stderr, so that stdout stays data only. Callers check
// iostreams.CanPrompt first: this package never decides whether asking is
// allowed.
package prompt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"

	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/iostreams"
)

// Confirm asks a yes/no question, "[y/N]": only y or yes (any case) is a
// yes; an empty answer, anything else or end of input is a no. Ctrl-C (a
// cancelled ctx) returns cmdutil.ErrCancel.
func Confirm(ctx context.Context, ios *iostreams.IOStreams, question string) (bool, error) {
	fmt.Fprintf(ios.ErrOut, "%s [y/N] ", question)
	line, err := readLine(ctx, ios, func() (string, error) {
		s, err := readRawLine(ios.In)
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return s, err
	})
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// Hidden asks for a value without echoing it (a TOTP code, a secret). On a
// real terminal the echo is switched off and restored, even when Ctrl-C
// interrupts; on test streams a line is read as is.
func Hidden(ctx context.Context, ios *iostreams.IOStreams, label string) (string, error) {
	fmt.Fprint(ios.ErrOut, label)
	fd := ios.StdinFd()
	var restore func()
	read := func() (string, error) {
		s, err := readRawLine(ios.In)
		if errors.Is(err, io.EOF) && s != "" {
			err = nil
		}
		return s, err
	}
	if fd >= 0 && term.IsTerminal(fd) {
		if st, err := term.GetState(fd); err == nil {
			restore = func() { term.Restore(fd, st) }
		}
		read = func() (string, error) {
			b, err := term.ReadPassword(fd)
			return string(b), err
		}
	}
	s, err := readLine(ctx, ios, read)
	if restore != nil && err != nil {
		restore()
	}
	fmt.Fprintln(ios.ErrOut)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(s), nil
}

// readRawLine reads up to a newline one byte at a time, so that nothing
// after it is consumed: the next question reads the next line.
func readRawLine(r io.Reader) (string, error) {
	var b []byte
	var c [1]byte
	for len(b) < 4096 {
		n, err := r.Read(c[:])
		if n == 1 {
			if c[0] == '\n' {
				return string(b), nil
			}
			b = append(b, c[0])
			continue
		}
		if err != nil {
			return string(b), err
		}
	}
	return string(b), nil
}

// readLine runs read in the background so that a cancelled ctx (Ctrl-C)
// ends the wait at once.
func readLine(ctx context.Context, ios *iostreams.IOStreams, read func() (string, error)) (string, error) {
	type answer struct {
		s   string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		s, err := read()
		ch <- answer{s, err}
	}()
	select {
	case <-ctx.Done():
		return "", cmdutil.ErrCancel
	case a := <-ch:
		if a.err != nil {
			return "", fmt.Errorf("cannot read the answer: %w", a.err)
		}
		return a.s, nil
	}
}
