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
// and the error says to log in again. A request that reached the server
// without its token (a proxy dropped the header) removes nothing. Other
// refusals are returned as is.
func rejectedStored(ctx context.Context, f *cmdutil.Factory, cred *cmdutil.Credential, ae *client.APIError) error {
	var why string
	switch {
	case ae.Code == client.CodeTokenRevoked:
		why = "the server says it was revoked"
	case ae.Code == client.CodeUnauthenticated && ae.TokenRefused():
		why = "the server does not know it"
	case ae.Code == client.CodeUnauthenticated:
		return droppedToken(cred, ae)
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
	return &cmdutil.AuthError{Err: fmt.Errorf("%s: run '%s' to sign in again", msg, loginAgain(cred, team))}
}

// loginAgain is the command that signs in to team again, into the store
// cred came from: the file needs --insecure-storage.
func loginAgain(cred *cmdutil.Credential, team string) string {
	if cred.Source == credentials.NameFile {
		return "movitera login --team " + team + " --insecure-storage"
	}
	return "movitera login --team " + team
}

// rejectedEnv answers the server's refusal of MOVITERA_TOKEN: logging in
// again does not help while the variable is set, so the error says where
// the token came from and to unset or replace it.
func rejectedEnv(cred *cmdutil.Credential, ae *client.APIError) error {
	if ae.Code == client.CodeUnauthenticated && !ae.TokenRefused() {
		return droppedToken(cred, ae)
	}
	return &cmdutil.AuthError{Err: fmt.Errorf("%s was rejected by %s: %v; while MOVITERA_TOKEN is set, commands use it and not a login: unset it, or set it to a valid token",
		tokenFrom(cred), cred.Server, ae)}
}

// droppedToken explains a 401 for a request that had no token when the
// CLI did send one: something on the way (a proxy) removed the header.
// The token itself was not refused, so it stays where it is.
func droppedToken(cred *cmdutil.Credential, ae *client.APIError) error {
	msg := fmt.Sprintf("movitera sent %s, but the server at %s received no token: a proxy between here and it may be dropping the Authorization header", tokenFrom(cred), cred.Server)
	if cred.Source != "environment" {
		msg += " (the token was kept)"
	}
	return &cmdutil.AuthError{Err: errors.New(msg)}
}

// tokenFrom names a credential for people, without its secret: "the token
// mvc_AbCdEfGh from MOVITERA_TOKEN", "… stored in the system keyring".
func tokenFrom(cred *cmdutil.Credential) string {
	what := "the token " + movitera.PublicPrefix(cred.Token)
	if _, err := movitera.ParseSecret(cred.Token); err != nil {
		what = "the token (not a movitera token)"
	}
	if cred.Source == "environment" {
		return what + " from MOVITERA_TOKEN"
	}
	return what + " stored in " + whereStored(cred.Source, cred.Location)
}

// forgetStored deletes cred from its store if the store still holds that
// very token, in one step (a login may store a new one meanwhile), and
// returns ErrNotFound if it does not.
func forgetStored(ctx context.Context, f *cmdutil.Factory, cred *cmdutil.Credential) error {
	stores, err := f.Credentials()
	if err != nil {
		return err
	}
	return storeOf(stores, cred).DeleteIf(ctx, cred.Server, cred.Team, cred.Token)
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
