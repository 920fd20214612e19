// Package cmdutil holds what every command shares: the dependency factory,
// typed errors and the exit-code table.
package cmdutil

import (
	"errors"
	"fmt"
)

// Exit codes. They are few, stable and documented in "movitera --help".
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitAuth        = 4
	ExitInterrupted = 130
)

// ExitCodesHelp is the table shown in the root command's help.
const ExitCodesHelp = `Exit codes:
  0    success
  1    error
  2    usage error (bad flag, argument or value)
  4    not authenticated (no credential, or the server rejected it; second factor needed)
  130  interrupted (Ctrl-C)`

// FlagError is a usage error: bad flags, arguments or values. Exit 2.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf builds a FlagError.
func FlagErrorf(format string, a ...any) error {
	return &FlagError{Err: fmt.Errorf(format, a...)}
}

// AuthError means there is no usable credential. Exit 4.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// ErrCancel means the person said no or pressed Ctrl-C. Exit 130 for Ctrl-C;
// a declined confirmation is ErrDeclined (exit 1, nothing printed twice).
var ErrCancel = errors.New("interrupted")

// ErrDeclined is returned when a person answers "no" to a confirmation.
var ErrDeclined = errors.New("cancelled: nothing was changed")

// SilentError carries an exit code for a failure whose message has already
// been printed (for example a bulk revoke where some ids failed).
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	var fe *FlagError
	var ae *AuthError
	var se *SilentError
	var coded interface{ ExitCode() int }
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrCancel):
		return ExitInterrupted
	case errors.As(err, &se):
		return se.Code
	case errors.As(err, &fe):
		return ExitUsage
	case errors.As(err, &ae):
		return ExitAuth
	case errors.As(err, &coded):
		return coded.ExitCode()
	}
	return ExitError
}
