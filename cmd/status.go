package cmd

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/iostreams"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/safetext"
	"github.com/movitera/movitera/internal/tokenview"
)

// StatusOptions are the dependencies and flags of "movitera status".
type StatusOptions struct {
	IO         *iostreams.IOStreams
	AuthClient func(context.Context) (*client.Client, *cmdutil.Credential, error)
	Config     func() (*config.Config, error)
	Now        func() time.Time

	JSON bool
}

func newStatusCmd(f *cmdutil.Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IO, AuthClient: f.AuthClient, Config: f.Config, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the server, user, team and token in use, and where the token is kept",
		Long: `Show who you are on the vault: the server, user, team and role, the token in use (name,
type, prefix, days to expiry) and where it is kept: the system keyring, the file of
--insecure-storage, or the environment (MOVITERA_TOKEN).

Exits with 4 when there is no credential, or when the server rejects it (expired, revoked).`,
		Example: `  movitera status
  movitera status --json | jq -r .token.expires_at`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the status as JSON on stdout")
	return cmd
}

// statusJSON is what status --json prints.
type statusJSON struct {
	Server  string          `json:"server"`
	User    movitera.User   `json:"user"`
	Team    movitera.Team   `json:"team"`
	Token   tokenview.JSON  `json:"token"`
	Days    *int            `json:"days_left"` // null when it never expires
	Storage statusStoreJSON `json:"storage"`
}

type statusStoreJSON struct {
	Kind     string `json:"kind"` // keyring, file or environment
	Location string `json:"location"`
}

func runStatus(ctx context.Context, o *StatusOptions) error {
	c, cred, err := o.AuthClient(ctx)
	if err != nil {
		return err
	}
	info, err := c.User(ctx)
	if err != nil {
		var ae *client.APIError
		if errors.As(err, &ae) && ae.IsAuth() {
			return &cmdutil.AuthError{Err: fmt.Errorf("%s was rejected by %s: %w", tokenFrom(cred), c.Server(), err)}
		}
		return err
	}
	now := o.Now()
	tok := info.Token
	team := movitera.Team{Slug: tok.Team}
	for _, t := range info.Teams {
		if t.Slug == tok.Team {
			team = t
		}
	}
	if o.Config != nil {
		if cfg, err := o.Config(); err == nil && cfg.Team != "" && tok.Team != "" && cfg.Team != tok.Team {
			fmt.Fprintf(o.IO.ErrOut, "warning: the current team is %s, but this token belongs to %s\n", safetext.Clean(cfg.Team), safetext.Clean(tok.Team))
		}
	}
	days, expires := tok.DaysLeft(now)
	if o.JSON {
		out := statusJSON{
			Server: c.Server(), User: info.User, Team: team, Token: tokenview.NewJSON(tok, now),
			Storage: statusStoreJSON{Kind: cred.Source, Location: cred.Location},
		}
		if expires {
			out.Days = &days
		}
		return tokenview.WriteObject(o.IO.Out, out)
	}
	expiry := "never"
	if expires {
		expiry = fmt.Sprintf("in %d days (%s)", days, tok.ExpiresAt.UTC().Format("2006-01-02"))
		if days == 1 {
			expiry = fmt.Sprintf("in 1 day (%s)", tok.ExpiresAt.UTC().Format("2006-01-02"))
		}
	}
	role := ""
	if team.Role != "" {
		role = " (" + safetext.Clean(string(team.Role)) + ")"
	}
	w := tabwriter.NewWriter(o.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "Server:\t%s\n", c.Server())
	fmt.Fprintf(w, "User:\t%s <%s>\n", safetext.Clean(info.User.Name), safetext.Clean(info.User.Email))
	fmt.Fprintf(w, "Team:\t%s%s\n", safetext.Clean(team.Slug), role)
	fmt.Fprintf(w, "Token:\t%s (%s, %s)\n", safetext.Clean(tok.Name), tok.ClientType.Label(), safetext.Clean(tok.Prefix))
	fmt.Fprintf(w, "Expires:\t%s\n", expiry)
	fmt.Fprintf(w, "Stored in:\t%s\n", whereStored(cred.Source, cred.Location))
	return w.Flush()
}
