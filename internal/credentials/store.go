// Package credentials keeps the CLI's tokens: one per (server, team), in the
// system keyring by default, or in a 0600 file when the person asks for it
// with --insecure-storage. Every store passes the same contract test.
package credentials

import (
	"context"
	"errors"
)

// ErrNotFound means the store holds no token for that server and team.
var ErrNotFound = errors.New("no stored credential")

// ErrTimeout is wrapped in the UnavailableError of a keyring call that got
// no answer in time. Such a call is abandoned, not cancelled: a write may
// still land later, but before any later call of the same Keyring.
var ErrTimeout = errors.New("the keyring did not answer in time")

// Store keeps one token per (server, team).
type Store interface {
	// Get returns the token, or ErrNotFound.
	Get(ctx context.Context, server, team string) (string, error)
	// Set stores (or replaces) the token.
	Set(ctx context.Context, server, team, token string) error
	// Delete removes the token; ErrNotFound when there was none.
	Delete(ctx context.Context, server, team string) error
	// DeleteIf removes the entry only if it still holds token, so that a
	// token stored since (by a login) stays; ErrNotFound when there is no
	// entry or it holds another token.
	DeleteIf(ctx context.Context, server, team, token string) error
	// Name is the kind of store: "keyring", "file" or "memory".
	Name() string
	// Location says where the tokens live, for people: "the system
	// keyring", or a file's path.
	Location() string
}

// Stores are the places the CLI may keep a token.
type Stores struct {
	Keyring Store // the default
	File    Store // only with --insecure-storage
}

// Names of the stores, as status reports them.
const (
	NameKeyring = "keyring"
	NameFile    = "file"
	NameMemory  = "memory"
)

// Ways out, named in every error about an unusable keyring.
const waysOut = "log in with --insecure-storage to keep the token in a 0600 file, or set MOVITERA_TOKEN"

// UnavailableError means the system keyring cannot be used. Its message
// names the cause and both ways out.
type UnavailableError struct {
	Cause string
	Err   error
}

func (e *UnavailableError) Error() string {
	return "cannot use the system keyring (" + e.Cause + "): " + waysOut
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// checkKey refuses what no store could key or hold faithfully.
func checkKey(server, team, token string) error {
	switch {
	case server == "":
		return errors.New("credentials: no server")
	case team == "":
		return errors.New("credentials: no team")
	case token == "":
		return errors.New("credentials: empty token")
	}
	return nil
}
