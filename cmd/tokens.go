package cmd

import (
	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/movitera"
)

// newTokensCmd is "movitera tokens": the access-token card of the web app.
func newTokensCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Create, list and revoke the team's access tokens",
		Long: `Personal access tokens authenticate Movitera's CLI, the browser extension and the SDK
against the team's vault. A token belongs to one team: the current one (see 'movitera teams'),
or the one named with --team.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		newTokensCreateCmd(f, nil),
		newTokensListCmd(f, nil),
		newTokensRevokeCmd(f, nil),
	)
	return cmd
}

// parseTypeFlag reads --type for list and revoke, where every type,
// agent included, may be named.
func parseTypeFlag(s string) (movitera.ClientType, error) {
	if s == "" {
		return "", nil
	}
	t, err := movitera.ParseClientType(s)
	if err != nil {
		return "", &cmdutil.FlagError{Err: err}
	}
	return t, nil
}
