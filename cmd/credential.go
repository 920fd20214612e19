package cmd

import (
	"context"
	"errors"

	"github.com/movitera/movitera/internal/cmdutil"
)

// resolveCredential finds the token for the configured server and team:
// MOVITERA_TOKEN as given (the keyring untouched), else the stored one.
func resolveCredential(ctx context.Context, f *cmdutil.Factory) (*cmdutil.Credential, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	if cfg.Token != "" {
		return &cmdutil.Credential{Token: cfg.Token, Source: "environment", Location: "MOVITERA_TOKEN", Server: cfg.Server, Team: cfg.Team}, nil
	}
	_ = ctx
	return nil, &cmdutil.AuthError{Err: errors.New("not logged in to " + cfg.Server + ": run 'movitera login', or set MOVITERA_TOKEN")}
}
