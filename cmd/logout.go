package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/credentials"
	"github.com/movitera/movitera/internal/iostreams"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/prompt"
	"github.com/movitera/movitera/internal/safetext"
)

// LogoutOptions are the dependencies and flags of "movitera logout".
type LogoutOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	Client func() (*client.Client, error)
	Stored func(context.Context, *config.Config) (*cmdutil.Credential, error)
	Stores func() (*credentials.Stores, error)
	Getenv func(string) string

	Yes bool
}

func newLogoutCmd(f *cmdutil.Factory, runF func(context.Context, *LogoutOptions) error) *cobra.Command {
	opts := &LogoutOptions{
		IO: f.IO, Config: f.Config, Client: f.Client, Stores: f.Credentials, Getenv: os.Getenv,
		Stored: func(ctx context.Context, cfg *config.Config) (*cmdutil.Credential, error) {
			return storedCredential(ctx, f, cfg)
		},
	}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Revoke this CLI's token on the server and forget it",
		Long: `Log out of the current server and team: revoke the CLI token kept for them on the server,
then remove it from where it was stored (system keyring or file). Other teams' tokens stay.

On a terminal it asks first; --yes skips the question, and without a terminal --yes is required.
MOVITERA_TOKEN is never revoked or changed: unset it yourself.`,
		Example: `  movitera logout
  movitera logout --team globex --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("--yes is required to log out without a terminal")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLogout(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runLogout(ctx context.Context, o *LogoutOptions) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	ew := o.IO.ErrOut
	envSet := o.Getenv("MOVITERA_TOKEN") != ""
	warnEnv := func() {
		if envSet {
			fmt.Fprintln(ew, "warning: MOVITERA_TOKEN is still set: commands keep using it; unset it to be logged out")
		}
	}
	if cfg.Team == "" {
		warnEnv()
		return &cmdutil.AuthError{Err: fmt.Errorf("not logged in to %s: nothing to log out of", cfg.Server)}
	}
	cred, err := o.Stored(ctx, cfg)
	if errors.Is(err, credentials.ErrNotFound) {
		warnEnv()
		return &cmdutil.AuthError{Err: fmt.Errorf("no token is stored for team %s on %s: nothing to log out of", safetext.Clean(cfg.Team), cfg.Server)}
	}
	if err != nil {
		return err
	}
	prefix := movitera.PublicPrefix(cred.Token)
	if !o.Yes {
		ok, err := prompt.Confirm(ctx, o.IO, fmt.Sprintf("Log out of %s (team %s) and revoke the token %s?", cfg.Server, safetext.Clean(cfg.Team), safetext.Clean(prefix)))
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.ErrDeclined
		}
	}

	revoked := false
	if typ, perr := movitera.ParseSecret(cred.Token); perr != nil || typ != movitera.TypeCLI {
		fmt.Fprintf(ew, "The token %s is not a CLI token and may be in use elsewhere: it is forgotten here, not revoked.\n", safetext.Clean(prefix))
	} else if c, err := o.Client(); err != nil {
		return err
	} else if err := c.RevokeSecret(ctx, cred.Token); err != nil {
		if ctx.Err() != nil {
			return cmdutil.ErrCancel
		}
		fmt.Fprintf(ew, "warning: could not revoke the token %s on the server (%s); it stays valid until it expires: revoke it in the web app, Settings → Access tokens\n", prefix, safetext.Clean(err.Error()))
	} else {
		revoked = true
	}

	stores, err := o.Stores()
	if err != nil {
		return err
	}
	store := storeOf(stores, cred)
	if err := store.Delete(ctx, cfg.Server, cfg.Team); err != nil && !errors.Is(err, credentials.ErrNotFound) {
		return fmt.Errorf("could not remove the token from %s: %w", whereStored(cred.Source, cred.Location), err)
	}
	what := "removed"
	if revoked {
		what = "revoked and removed"
	}
	fmt.Fprintf(ew, "✓ Logged out of %s (team %s): token %s %s from %s\n", cfg.Server, safetext.Clean(cfg.Team), prefix, what, whereStored(cred.Source, cred.Location))
	warnEnv()
	return nil
}
