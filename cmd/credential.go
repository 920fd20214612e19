package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/credentials"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/safetext"
)

// resolveCredential finds the token for the configured server and team:
// MOVITERA_TOKEN as given (no store touched), else the 0600 file of
// --insecure-storage if it holds one for them, else the system keyring.
func resolveCredential(ctx context.Context, f *cmdutil.Factory) (*cmdutil.Credential, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	if cfg.Token != "" {
		return &cmdutil.Credential{Token: cfg.Token, Source: "environment", Location: "MOVITERA_TOKEN", Server: cfg.Server, Team: cfg.Team}, nil
	}
	if cfg.Team == "" {
		return nil, &cmdutil.AuthError{Err: fmt.Errorf("not logged in to %s: run 'movitera login', or set MOVITERA_TOKEN", cfg.Server)}
	}
	cred, err := storedCredential(ctx, f, cfg)
	if errors.Is(err, credentials.ErrNotFound) {
		return nil, &cmdutil.AuthError{Err: fmt.Errorf("not logged in to %s for team %s: run 'movitera login', or set MOVITERA_TOKEN", cfg.Server, cfg.Team)}
	}
	var ue *credentials.UnavailableError
	if errors.As(err, &ue) {
		// Nothing in the file, and the keyring cannot be asked.
		return nil, &cmdutil.AuthError{Err: fmt.Errorf("no token found for %s (team %s): %w", cfg.Server, cfg.Team, err)}
	}
	return cred, err
}

// storedCredential looks for the stored token of cfg's server and team:
// the file first (it exists only after --insecure-storage), then the
// keyring. It returns credentials.ErrNotFound when neither has one.
func storedCredential(ctx context.Context, f *cmdutil.Factory, cfg *config.Config) (*cmdutil.Credential, error) {
	stores, err := f.Credentials()
	if err != nil {
		return nil, err
	}
	for _, s := range []credentials.Store{stores.File, stores.Keyring} {
		if s == nil {
			continue
		}
		tok, err := s.Get(ctx, cfg.Server, cfg.Team)
		if errors.Is(err, credentials.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &cmdutil.Credential{Token: tok, Source: s.Name(), Location: s.Location(), Server: cfg.Server, Team: cfg.Team}, nil
	}
	return nil, credentials.ErrNotFound
}

// rejectedStored answers the server's refusal of a stored token. One it
// calls revoked or does not know never works again (a login revokes its
// new token when the keyring write times out, and that write may land
// later): it is removed from its store, unless a login replaced it since,
// and the error says to log in again. Other refusals are returned as is.
func rejectedStored(ctx context.Context, f *cmdutil.Factory, cred *cmdutil.Credential, ae *client.APIError) error {
	var why string
	switch ae.Code {
	case client.CodeTokenRevoked:
		why = "the server says it was revoked"
	case client.CodeUnauthenticated:
		why = "the server does not know it"
	default:
		return ae
	}
	team := safetext.Clean(cred.Team)
	msg := fmt.Sprintf("the token %s stored for %s (team %s) is no longer valid (%s)", movitera.PublicPrefix(cred.Token), cred.Server, team, why)
	where := whereStored(cred.Source, cred.Location)
	switch err := forgetStored(ctx, f, cred); {
	case err == nil:
		msg += " and was removed from " + where
	case !errors.Is(err, credentials.ErrNotFound):
		var ue *credentials.UnavailableError
		if errors.As(err, &ue) {
			err = errors.New(ue.Cause) // its ways out are for storing, not removing
		}
		msg += fmt.Sprintf(" and could not be removed from %s (%v)", where, err)
	}
	return &cmdutil.AuthError{Err: fmt.Errorf("%s: run 'movitera login --team %s' to sign in again", msg, team)}
}

// forgetStored deletes cred from its store if the store still holds that
// very token, and returns ErrNotFound if it does not.
func forgetStored(ctx context.Context, f *cmdutil.Factory, cred *cmdutil.Credential) error {
	stores, err := f.Credentials()
	if err != nil {
		return err
	}
	s := storeOf(stores, cred)
	tok, err := s.Get(ctx, cred.Server, cred.Team)
	if err != nil {
		return err
	}
	if tok != cred.Token {
		return credentials.ErrNotFound
	}
	return s.Delete(ctx, cred.Server, cred.Team)
}

// storeOf returns the store a credential came from.
func storeOf(stores *credentials.Stores, cred *cmdutil.Credential) credentials.Store {
	if cred.Source == credentials.NameFile {
		return stores.File
	}
	return stores.Keyring
}

// whereStored says, for people, where a credential lives.
func whereStored(source, location string) string {
	switch source {
	case "environment":
		return "the environment (MOVITERA_TOKEN)"
	case credentials.NameFile:
		return location + " (plain text, 0600; --insecure-storage)"
	case credentials.NameKeyring:
		return "the system keyring"
	}
	return location
}
