package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/safetext"
	"github.com/movitera/movitera/internal/tokenview"
)

// teamClient is the authenticated client, its credential, and the team a
// token command acts on (see actingTeam).
func teamClient(ctx context.Context, f *cmdutil.Factory) (*client.Client, *cmdutil.Credential, string, error) {
	c, cred, err := f.AuthClient(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	team, err := actingTeam(ctx, f, c, cred)
	return c, cred, team, err
}

// actingTeam is the team a command acts on: --team, MOVITERA_TEAM or the
// config file's team; else the credential's team; else the calling
// token's own team, asked from the server.
func actingTeam(ctx context.Context, f *cmdutil.Factory, c *client.Client, cred *cmdutil.Credential) (string, error) {
	cfg, err := f.Config()
	if err != nil {
		return "", err
	}
	if cfg.Team != "" {
		return cfg.Team, nil
	}
	if cred != nil && cred.Team != "" {
		return cred.Team, nil
	}
	u, err := c.User(ctx)
	if err != nil {
		return "", err
	}
	return u.Token.Team, nil
}

// teamForbidden explains a team_forbidden answer: the token belongs to
// another team than the one asked for (--team, MOVITERA_TEAM, the config).
func teamForbidden(ctx context.Context, c *client.Client, team string, err error) error {
	if !isCode(err, client.CodeTeamForbidden) {
		return err
	}
	u, uerr := c.User(ctx)
	if uerr != nil || u.Token.Team == "" || u.Token.Team == team {
		return err
	}
	own, t := safetext.Clean(u.Token.Team), safetext.Clean(team)
	return fmt.Errorf("this token belongs to team %s, not %s: run 'movitera login --team %s' for a %s credential", own, t, t, t)
}

func newTeamsCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "teams",
		Short: "List your teams and choose the current one",
		Long: `A token belongs to one team and acts on that team's vault only. The current team is the
one commands act on: --team SLUG for one command, MOVITERA_TEAM for a shell, or
'movitera teams switch SLUG' to record it in the config file.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newTeamsListCmd(f, nil), newTeamsSwitchCmd(f, nil))
	return cmd
}

// TeamsListOptions are the inputs of "teams list".
type TeamsListOptions struct {
	F    *cmdutil.Factory
	JSON bool
}

func newTeamsListCmd(f *cmdutil.Factory, runF func(*TeamsListOptions) error) *cobra.Command {
	opts := &TeamsListOptions{F: f}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your teams, your role in each, and the current one (*)",
		Long: `List the teams you belong to, your role in each (a manager may create tokens that never
expire), and mark the current one with *.

On a terminal a table; in a pipe one team per line: current mark, slug, name and role
separated by tabs. --json prints an array of {slug, name, role, current}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runTeamsList(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array")
	return cmd
}

type teamJSON struct {
	movitera.Team
	Current bool `json:"current"`
}

func runTeamsList(ctx context.Context, opts *TeamsListOptions) error {
	f := opts.F
	c, cred, err := f.AuthClient(ctx)
	if err != nil {
		return err
	}
	u, err := c.User(ctx)
	if err != nil {
		return err
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	current := cfg.Team
	if current == "" {
		current = cred.Team
	}
	if current == "" {
		current = u.Token.Team
	}
	if opts.JSON {
		a := tokenview.NewArrayWriter(f.IO.Out)
		for _, t := range u.Teams {
			if err := a.Add(teamJSON{Team: t, Current: t.Slug == current}); err != nil {
				return err
			}
		}
		return a.Close()
	}
	if len(u.Teams) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "You belong to no team yet: ask a vault manager to invite you.")
		return nil
	}
	rows := make([][]string, 0, len(u.Teams))
	for _, t := range u.Teams {
		mark := ""
		if t.Slug == current {
			mark = "*"
		}
		rows = append(rows, []string{mark, safetext.Clean(t.Slug), safetext.Clean(t.Name), safetext.Clean(string(t.Role))})
	}
	if !f.IO.IsStdoutTTY() {
		for _, r := range rows {
			fmt.Fprintln(f.IO.Out, strings.Join(r, "\t"))
		}
		return nil
	}
	return tokenview.WriteGrid(f.IO.Out, []string{"", "SLUG", "NAME", "ROLE"}, rows)
}

// TeamsSwitchOptions are the inputs of "teams switch".
type TeamsSwitchOptions struct {
	F    *cmdutil.Factory
	Slug string
}

func newTeamsSwitchCmd(f *cmdutil.Factory, runF func(*TeamsSwitchOptions) error) *cobra.Command {
	opts := &TeamsSwitchOptions{F: f}
	cmd := &cobra.Command{
		Use:   "switch SLUG",
		Short: "Make a team the current one",
		Long: `Record a team as the current one in the config file, after checking that you belong to
it. Commands then act on that team's vault, with the credential stored for it; when there is
none yet, sign in to it with 'movitera login --team SLUG'.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.FlagErrorf("name one team to switch to, as in 'movitera teams switch SLUG' (see 'movitera teams list')")
			}
			if slug := strings.TrimSpace(args[0]); !movitera.ValidTeamSlug(slug) {
				return cmdutil.FlagErrorf("invalid team %q: a team slug is lowercase letters, digits and dashes; see 'movitera teams list'", slug)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Slug = strings.TrimSpace(args[0])
			if runF != nil {
				return runF(opts)
			}
			return runTeamsSwitch(cmd.Context(), opts)
		},
		ValidArgsFunction: completeTeamSlugs(f),
	}
	return cmd
}

func runTeamsSwitch(ctx context.Context, opts *TeamsSwitchOptions) error {
	f := opts.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	slug := opts.Slug
	u, err := userForSwitch(ctx, f, slug)
	if err != nil {
		return err
	}
	team, ok := findTeam(u.Teams, slug)
	if !ok {
		return fmt.Errorf("you are not a member of a team \"%s\"; your teams: %s", safetext.Clean(slug), teamSlugs(u.Teams))
	}
	if err := cfg.SetTeam(slug); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Current team is now %s (%s, %s).\n", safetext.Clean(team.Slug), safetext.Clean(team.Name), safetext.Clean(string(team.Role)))
	// Is there a credential for the new team?
	_, cred, err := f.AuthClient(ctx)
	var ae *cmdutil.AuthError
	switch {
	case errors.As(err, &ae):
		fmt.Fprintf(f.IO.ErrOut, "You are not signed in to %s yet: run 'movitera login --team %s'.\n", safetext.Clean(slug), safetext.Clean(slug))
	case err != nil:
		return err
	case cred.Source == "environment" && u.Token.Team != slug:
		fmt.Fprintf(f.IO.ErrOut, "MOVITERA_TOKEN belongs to team %s, not %s: set it to a %s token, or unset it and run 'movitera login --team %s'.\n", safetext.Clean(u.Token.Team), slug, slug, slug)
	}
	return nil
}

// userForSwitch asks the server who the person is, with the credential of
// the current team, else with the one of the team being switched to.
func userForSwitch(ctx context.Context, f *cmdutil.Factory, slug string) (*client.UserInfo, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	c, _, err := f.AuthClient(ctx)
	var ae *cmdutil.AuthError
	if errors.As(err, &ae) && cfg.Team != slug {
		prev := cfg.Team
		cfg.Team = slug
		c, _, err = f.AuthClient(ctx)
		cfg.Team = prev
	}
	if errors.As(err, &ae) {
		return nil, &cmdutil.AuthError{Err: fmt.Errorf("not signed in, so team \"%s\" cannot be checked: run 'movitera login --team %s'", safetext.Clean(slug), safetext.Clean(slug))}
	}
	if err != nil {
		return nil, err
	}
	return c.User(ctx)
}

func findTeam(teams []movitera.Team, slug string) (movitera.Team, bool) {
	for _, t := range teams {
		if t.Slug == slug {
			return t, true
		}
	}
	return movitera.Team{}, false
}

func teamSlugs(teams []movitera.Team) string {
	if len(teams) == 0 {
		return "none"
	}
	s := make([]string, len(teams))
	for i, t := range teams {
		s[i] = safetext.Clean(t.Slug)
	}
	return strings.Join(s, ", ")
}
