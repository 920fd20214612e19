package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/credentials"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/prompt"
	"github.com/movitera/movitera/internal/safetext"
	"github.com/movitera/movitera/internal/tokensel"
	"github.com/movitera/movitera/internal/tokenview"
)

// The seed's warning, shown before every revocation.
const revokeWarning = "Revocation is immediate and can't be undone: any CLI or extension using this token stops working immediately."

// maxBulk is the most ids the vault revokes in one request.
const maxBulk = 500

// TokensRevokeOptions are the inputs of "tokens revoke".
type TokensRevokeOptions struct {
	F           *cmdutil.Factory
	Args        []string
	Type        movitera.ClientType
	All         bool
	SecretStdin bool
	Yes         bool
	JSON        bool
}

func newTokensRevokeCmd(f *cmdutil.Factory, runF func(*TokensRevokeOptions) error) *cobra.Command {
	opts := &TokensRevokeOptions{F: f}
	var typ string
	cmd := &cobra.Command{
		Use:   "revoke [ID|ID-PREFIX|PREFIX|NAME]...",
		Short: "Revoke access tokens, at once and for good",
		Long: `Revoke one or more of the team's tokens. Revocation is immediate and cannot be undone:
the very next request with a revoked token fails.

Name each token by its id (tok_3f9a…), the start of its id, the secret's prefix shown in
the list (mvs_AbCdEfGh) or its name. Every argument must match exactly one token: when one
matches none or several, the candidates are listed and nothing at all is revoked.
--type T --all selects every active token of a type.

At a terminal the tokens are listed and you are asked to confirm; without a terminal
--yes is required. A line per token says what happened (on stderr; --json prints the
results on stdout). Revoking an already revoked token is not an error; a token that could
not be revoked makes the command exit 1.

--secret-stdin revokes a token from its secret alone, read from stdin (for a leaked
secret: no credential and no team needed, and the secret stays out of your shell history).`,
		Example: `  movitera tokens revoke tok_3f9a0c1d2e3f4a5b
  movitera tokens revoke mvs_AbCdEfGh "deploy pipeline" --yes
  movitera tokens revoke --type sdk --all
  printf '%s' "$LEAKED" | movitera tokens revoke --secret-stdin`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Type, err = parseTypeFlag(typ); err != nil {
				return err
			}
			opts.Args = args
			if err := checkRevokeSelection(opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			if opts.SecretStdin {
				return runRevokeSecret(cmd.Context(), opts)
			}
			return runTokensRevoke(cmd.Context(), opts)
		},
		ValidArgsFunction: completeTokens(f),
	}
	fl := cmd.Flags()
	fl.StringVar(&typ, "type", "", "with --all: the client type whose active tokens are revoked")
	fl.BoolVar(&opts.All, "all", false, "revoke every active token of --type")
	fl.BoolVar(&opts.SecretStdin, "secret-stdin", false, "read a secret from stdin and revoke that token")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation (required without a terminal)")
	fl.BoolVar(&opts.JSON, "json", false, "print the results as a JSON array")
	_ = cmd.RegisterFlagCompletionFunc("type", completeTypes(movitera.AllTypes))
	return cmd
}

// checkRevokeSelection makes the selection explicit, before any request.
func checkRevokeSelection(opts *TokensRevokeOptions) error {
	f := opts.F
	switch {
	case opts.SecretStdin && (len(opts.Args) > 0 || opts.All || opts.Type != ""):
		return cmdutil.FlagErrorf("--secret-stdin revokes the one token whose secret is on stdin: drop the other arguments")
	case opts.SecretStdin:
		return nil
	case opts.All && opts.Type == "":
		return cmdutil.FlagErrorf("--all needs --type: say which tokens, e.g. --type sdk --all")
	case opts.All && len(opts.Args) > 0:
		return cmdutil.FlagErrorf("name tokens or use --type T --all, not both")
	case opts.Type != "" && !opts.All:
		return cmdutil.FlagErrorf("--type selects tokens with --all only: add --all to revoke every active %s token", opts.Type)
	case len(opts.Args) == 0 && !opts.All:
		return cmdutil.FlagErrorf("say which tokens to revoke: ids, prefixes or names (see 'movitera tokens list'), --type T --all, or --secret-stdin")
	case !opts.Yes && !f.IO.CanPrompt():
		return cmdutil.FlagErrorf("revoking needs a confirmation and there is no terminal to ask: add --yes; nothing was revoked")
	}
	return nil
}

// revokeResultJSON is one element of --json.
type revokeResultJSON struct {
	ID     string          `json:"id"`
	Name   string          `json:"name"`
	Status string          `json:"status"`
	Token  *tokenview.JSON `json:"token"`
}

func runTokensRevoke(ctx context.Context, opts *TokensRevokeOptions) error {
	f := opts.F
	c, cred, team, err := teamClient(ctx, f)
	if err != nil {
		return err
	}
	now := f.Now()
	all, err := c.AllTokens(ctx, team, client.ListOptions{IncludeRevoked: true, Type: opts.Type, Limit: 500})
	if err != nil {
		return teamForbidden(ctx, c, team, err)
	}
	var targets []movitera.Token
	if opts.All {
		for _, t := range all {
			if t.StateAt(now) == movitera.StateActive {
				targets = append(targets, t)
			}
		}
		if len(targets) == 0 {
			fmt.Fprintf(f.IO.ErrOut, "No active %s tokens in team %s: nothing to revoke.\n", opts.Type.Label(), team)
			if opts.JSON {
				return tokenview.NewArrayWriter(f.IO.Out).Close()
			}
			return nil
		}
	} else if targets, err = tokensel.Resolve(all, team, opts.Args); err != nil {
		return usageIfSecretArg(err)
	}

	if !opts.Yes {
		fmt.Fprintf(f.IO.ErrOut, "About to revoke %s in team %s:\n", plural(len(targets), "token"), team)
		rows := make([]tokenview.Row, len(targets))
		for i, t := range targets {
			rows[i] = tokenview.NewRow(t, now)
		}
		if err := tokenview.WriteTable(f.IO.ErrOut, rows, false, 0); err != nil {
			return err
		}
		warning := revokeWarning
		if len(targets) > 1 {
			warning = strings.Replace(warning, "using this token", "using these tokens", 1)
		}
		fmt.Fprintln(f.IO.ErrOut, warning)
		ok, err := prompt.Confirm(ctx, f.IO, fmt.Sprintf("Revoke %s?", plural(len(targets), "token")))
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.ErrDeclined
		}
	}

	// Is the CLI's own credential among them? Ask before it stops working.
	ownID := ""
	if cred != nil {
		own := movitera.DisplayPrefix(cred.Token)
		for _, t := range targets {
			if t.Prefix == own {
				if u, err := c.User(ctx); err == nil {
					ownID = u.Token.ID
				}
				break
			}
		}
	}

	byID := make(map[string]movitera.Token, len(targets))
	ids := make([]string, len(targets))
	for i, t := range targets {
		byID[t.ID], ids[i] = t, t.ID
	}
	var results []client.RevokeResult
	for start := 0; start < len(ids); start += maxBulk {
		end := min(start+maxBulk, len(ids))
		rs, err := c.RevokeTokens(ctx, team, ids[start:end])
		if err != nil {
			if len(results) > 0 {
				reportRevoked(f, results, byID, false)
			}
			return err
		}
		results = append(results, rs...)
	}
	failed := reportRevoked(f, results, byID, opts.JSON)
	for _, r := range results {
		if r.ID == ownID && r.Status != client.RevokeStatusNotFound {
			loggedOut(ctx, f, cred, team)
		}
	}
	if failed > 0 {
		return &cmdutil.SilentError{Code: cmdutil.ExitError}
	}
	return nil
}

// reportRevoked prints the seed's "Token revoked" line per token on
// stderr and, with asJSON, the results on stdout. It returns how many
// failed.
func reportRevoked(f *cmdutil.Factory, results []client.RevokeResult, byID map[string]movitera.Token, asJSON bool) int {
	failed := 0
	for _, r := range results {
		t := byID[r.ID]
		desc := fmt.Sprintf("\"%s\" (%s, %s)", safetext.Clean(t.Name), r.ID, t.Prefix)
		switch r.Status {
		case client.RevokeStatusRevoked:
			fmt.Fprintf(f.IO.ErrOut, "Token revoked: %s\n", desc)
		case client.RevokeStatusAlreadyRevoked:
			fmt.Fprintf(f.IO.ErrOut, "Already revoked: %s\n", desc)
		default:
			failed++
			fmt.Fprintf(f.IO.ErrOut, "Not revoked: %s is no longer in the team's list\n", desc)
		}
	}
	if asJSON {
		a := tokenview.NewArrayWriter(f.IO.Out)
		for _, r := range results {
			el := revokeResultJSON{ID: r.ID, Name: byID[r.ID].Name, Status: r.Status}
			if r.Token != nil {
				v := tokenview.NewJSON(*r.Token, f.Now())
				el.Token = &v
			}
			a.Add(el)
		}
		a.Close()
	}
	return failed
}

// loggedOut follows the revocation of the CLI's own credential: a stored
// one (keyring or file) is removed from its store unless a login replaced
// it since, MOVITERA_TOKEN is only named; either way it says so.
func loggedOut(ctx context.Context, f *cmdutil.Factory, cred *cmdutil.Credential, team string) {
	if cred.Source == "environment" {
		fmt.Fprintf(f.IO.ErrOut, "You revoked the token in MOVITERA_TOKEN: this CLI is now logged out of %s. Set MOVITERA_TOKEN to another token, or unset it and run 'movitera login --team %s'.\n", team, team)
		return
	}
	where := whereStored(cred.Source, cred.Location)
	stores, err := f.Credentials()
	if err == nil {
		err = storeOf(stores, cred).DeleteIf(context.WithoutCancel(ctx), cred.Server, cred.Team, cred.Token)
		if errors.Is(err, credentials.ErrNotFound) {
			err = nil
		}
	}
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "You revoked the token this CLI signs in with: it is now logged out of %s, but the revoked token could not be removed from %s (%s). Run 'movitera logout --yes', or '%s' to sign in again.\n", team, where, safetext.Clean(err.Error()), loginAgain(cred, team))
		return
	}
	fmt.Fprintf(f.IO.ErrOut, "You revoked the token this CLI signs in with: it is now logged out of %s, and the token was removed from %s. Run '%s' to sign in again.\n", team, where, loginAgain(cred, team))
}

// runRevokeSecret revokes a token from its secret alone (RFC 7009).
func runRevokeSecret(ctx context.Context, opts *TokensRevokeOptions) error {
	f := opts.F
	var secret string
	var err error
	if f.IO.IsStdinTTY() && f.IO.CanPrompt() {
		secret, err = prompt.Hidden(ctx, f.IO, "Paste the secret to revoke: ")
	} else {
		var b []byte
		b, err = io.ReadAll(io.LimitReader(f.IO.In, 64<<10))
		secret = strings.TrimSpace(string(b))
	}
	if err != nil {
		return err
	}
	if secret == "" {
		return cmdutil.FlagErrorf("--secret-stdin read nothing: pipe the secret in, e.g. printf '%%s' \"$LEAKED\" | movitera tokens revoke --secret-stdin")
	}
	if _, err := movitera.ParseSecret(secret); err != nil {
		return fmt.Errorf("stdin does not hold a movitera access token (mvc_, mvs_, mve_, mva_ or mvo_ and 38 characters, with a valid checksum): nothing was revoked")
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	if err := c.RevokeSecret(ctx, secret); err != nil {
		return err
	}
	prefix := movitera.DisplayPrefix(secret)
	fmt.Fprintf(f.IO.ErrOut, "Token revoked: %s… no longer works (the vault does not say whether it still existed).\n", prefix)
	if opts.JSON {
		if err := tokenview.WriteObject(f.IO.Out, map[string]string{"prefix": prefix, "status": "revoked"}); err != nil {
			return err
		}
	}
	if cfg, err := f.Config(); err == nil && cfg.Token == secret {
		loggedOut(ctx, f, &cmdutil.Credential{Source: "environment"}, cfg.Team)
	} else if _, cred, err := f.AuthClient(ctx); err == nil && cred.Token == secret {
		loggedOut(ctx, f, cred, cred.Team)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// usageIfSecretArg makes a resolution error that names a secret given as an
// argument a usage error (exit 2): the fix is --secret-stdin, not another id.
func usageIfSecretArg(err error) error {
	var se *tokensel.Error
	if errors.As(err, &se) {
		for _, p := range se.Problems {
			if p.Secret {
				return &cmdutil.FlagError{Err: err}
			}
		}
	}
	return err
}
