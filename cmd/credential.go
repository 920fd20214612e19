package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/credentials"
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
