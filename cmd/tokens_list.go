package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/tokenview"
)

// TokensListOptions are the inputs of "tokens list".
type TokensListOptions struct {
	F      *cmdutil.Factory
	Active bool
	Type   movitera.ClientType
	JSON   bool
	// PageSize is the number of tokens asked per request (500, the most).
	PageSize int
}

func newTokensListCmd(f *cmdutil.Factory, runF func(*TokensListOptions) error) *cobra.Command {
	opts := &TokensListOptions{F: f, PageSize: 500}
	var typ string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the team's access tokens",
		Long: `List the team's access tokens, newest first: id, name, type, the secret's prefix, the last
use and the expiry. Revoked tokens stay in the list for history (struck through on a
terminal); "Expires in N days" is highlighted when 7 days or fewer remain. --active leaves
out revoked and expired tokens.

On a terminal this is an aligned table, with colour unless NO_COLOR is set, fitted to the
terminal's width (COLUMNS when set): long names are cut with "…", then the TYPE, PREFIX
and LAST USED columns are left out, in that order. In a pipe it is one token per line,
the same six columns separated by tabs, without header or escape sequences, and nothing
is ever cut. --json prints an array of objects with id, name, type, prefix, team,
created_by (when the server records it), created_at, last_used_at, expires_at,
revoked_at (RFC 3339 UTC or null) and state (active, expired or revoked).`,
		Example: `  movitera tokens list
  movitera tokens list --type sdk --active
  movitera tokens list --json | jq '.[] | select(.state == "active") | .id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if opts.Type, err = parseTypeFlag(typ); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runTokensList(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Active, "active", false, "only active tokens: no revoked or expired ones")
	cmd.Flags().StringVar(&typ, "type", "", "only tokens of a client type: cli, sdk, extension, agent or other")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array")
	_ = cmd.RegisterFlagCompletionFunc("type", completeTypes(movitera.AllTypes))
	return cmd
}

func runTokensList(ctx context.Context, opts *TokensListOptions) error {
	f := opts.F
	c, _, team, err := teamClient(ctx, f)
	if err != nil {
		return err
	}
	now := f.Now()
	lo := client.ListOptions{IncludeRevoked: !opts.Active, Type: opts.Type, Limit: opts.PageSize}
	keep := func(t movitera.Token) bool { return !opts.Active || t.StateAt(now) == movitera.StateActive }

	if opts.JSON {
		// Streamed page by page: a list of any length is never held whole.
		a := tokenview.NewArrayWriter(f.IO.Out)
		err := c.EachTokenPage(ctx, team, lo, func(ts []movitera.Token) error {
			for _, t := range ts {
				if keep(t) {
					if err := a.Add(tokenview.NewJSON(t, now)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return teamForbidden(ctx, c, team, err)
		}
		return a.Close()
	}

	// The table needs every row for its widths; it keeps the displayed
	// strings only.
	var rows []tokenview.Row
	err = c.EachTokenPage(ctx, team, lo, func(ts []movitera.Token) error {
		for _, t := range ts {
			if keep(t) {
				rows = append(rows, tokenview.NewRow(t, now))
			}
		}
		return nil
	})
	if err != nil {
		return teamForbidden(ctx, c, team, err)
	}
	if len(rows) == 0 {
		fmt.Fprintln(f.IO.ErrOut, emptyListMessage(team, opts))
		return nil
	}
	return tokenview.Write(f.IO.Out, rows, tokenview.ModeFor(f.IO.IsStdoutTTY(), f.IO.ColorEnabled()), f.IO.TerminalWidth())
}

func emptyListMessage(team string, opts *TokensListOptions) string {
	what := "tokens"
	if opts.Type != "" {
		what = opts.Type.Label() + " tokens"
	}
	if opts.Active {
		what = "active " + what
	}
	return fmt.Sprintf("No %s in team %s. Create one with 'movitera tokens create'.", what, team)
}
