package cmd

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/safetext"
)

// completionTimeout bounds the requests a completion makes: a shell must
// never hang on Tab.
const completionTimeout = 3 * time.Second

// completeTypes offers client types for --type.
func completeTypes(types []movitera.ClientType) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		out := make([]cobra.Completion, len(types))
		for i, t := range types {
			out[i] = cobra.CompletionWithDesc(string(t), t.Label())
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeTokens offers the ids and names of the team's active tokens, for
// revoke. Any failure (no credential, no network) offers nothing, silently.
func completeTokens(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(completionContext(cmd), completionTimeout)
		defer cancel()
		c, _, team, err := teamClient(ctx, f)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		tokens, err := c.AllTokens(ctx, team, client.ListOptions{Limit: 500})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		given := map[string]bool{}
		for _, a := range args {
			given[a] = true
		}
		now := f.Now()
		var out []cobra.Completion
		for _, t := range tokens {
			if t.StateAt(now) != movitera.StateActive || given[t.ID] || given[t.Name] {
				continue
			}
			name := safetext.Clean(t.Name)
			if strings.HasPrefix(t.ID, toComplete) {
				out = append(out, cobra.CompletionWithDesc(t.ID, name+" · "+t.ClientType.Label()))
			}
			if toComplete != "" && strings.HasPrefix(name, toComplete) {
				out = append(out, cobra.CompletionWithDesc(name, t.ID))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeTeamSlugs offers the slugs of the person's teams.
func completeTeamSlugs(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(completionContext(cmd), completionTimeout)
		defer cancel()
		c, _, err := f.AuthClient(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		u, err := c.User(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, t := range u.Teams {
			if strings.HasPrefix(t.Slug, toComplete) {
				out = append(out, cobra.CompletionWithDesc(safetext.Clean(t.Slug), safetext.Clean(t.Name)+" ("+string(t.Role)+")"))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// registerTeamFlagCompletion offers team slugs for the global --team.
func registerTeamFlagCompletion(root *cobra.Command, f *cmdutil.Factory) {
	_ = root.RegisterFlagCompletionFunc("team", completeTeamSlugs(f))
}

func completionContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
