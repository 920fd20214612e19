// Package cmd is the cobra command tree. Commands are thin: they parse flags
// into an options struct and call a run function; the work lives in
// internal/.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/iostreams"
	"github.com/movitera/movitera/internal/safetext"
)

// Set through -ldflags "-X github.com/movitera/movitera/cmd.version=…".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// Main runs the command line and returns the process exit code. Errors are
// printed here, once.
func Main() int {
	ios := iostreams.System()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, f := NewRootCmd(ios)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	if ctx.Err() != nil && !errors.Is(err, cmdutil.ErrCancel) {
		err = fmt.Errorf("%w: %v", cmdutil.ErrCancel, err)
	}
	printError(f.IO, root, err)
	return cmdutil.ExitCode(err)
}

func printError(ios *iostreams.IOStreams, root *cobra.Command, err error) {
	var se *cmdutil.SilentError
	if errors.As(err, &se) {
		return
	}
	if errors.Is(err, cmdutil.ErrCancel) {
		fmt.Fprintln(ios.ErrOut, "interrupted: nothing was changed")
		return
	}
	// Messages may quote the server (names, details): print them with
	// control characters neutralised, line by line.
	fmt.Fprintln(ios.ErrOut, "error:", safetext.Error(err))
	var fe *cmdutil.FlagError
	if errors.As(err, &fe) {
		fmt.Fprintln(ios.ErrOut, "Run 'movitera --help' or add --help to the command for usage.")
	}
}

// NewRootCmd builds the whole command tree and the factory its commands
// share.
func NewRootCmd(ios *iostreams.IOStreams) (*cobra.Command, *cmdutil.Factory) {
	root := &cobra.Command{
		Use:   "movitera",
		Short: "Sign in to Movitera's team vault and manage its access tokens",
		Long: `movitera signs you in to your team's vault from a terminal and manages the team's
personal access tokens: create them for CI and the SDK, list them, revoke them.
The same binary runs "movitera server", a self-contained vault for tests and self-hosting.`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	f := newFactory(ios, root)
	pf := root.PersistentFlags()
	pf.String("server", "", "vault server URL (env MOVITERA_SERVER; default "+config.DefaultServer+")")
	pf.String("team", "", "team slug to act on (env MOVITERA_TEAM)")
	pf.Bool("debug", false, "trace HTTP requests on stderr, every secret redacted")
	pf.String("config", "", "config file (default $MOVITERA_CONFIG_DIR/config.yaml, else $XDG_CONFIG_HOME/movitera/config.yaml)")
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetVersionTemplate(fmt.Sprintf("movitera %s (commit %s, built %s)\n", version, commit, date))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
	})

	root.AddCommand(
		newVersionCmd(f),
		newServerCmd(f),
		newTokensCmd(f),
		newTeamsCmd(f),
		newLoginCmd(f, nil),
		newLogoutCmd(f, nil),
		newStatusCmd(f, nil),
	)
	setHelp(root) // after AddCommand: it sets up the help command too
	registerTeamFlagCompletion(root, f)
	root.InitDefaultCompletionCmd()
	usageErrors(root)
	return root, f
}

// usageErrors makes every argument error a usage error (exit 2): a group
// command (root, tokens, teams, completion) refuses an unknown
// subcommand instead of printing its help, and each command's argument
// check returns a FlagError.
func usageErrors(c *cobra.Command) {
	if c.HasSubCommands() && !c.Runnable() {
		if !strings.Contains(c.Use, " ") {
			arg := " COMMAND"
			if c.Name() == "completion" {
				arg = " SHELL"
			}
			c.Use += arg // the usage line of the docs: "movitera tokens COMMAND [flags]"
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return unknownCommand(cmd, args[0])
		}
	}
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			if err == nil {
				return nil
			}
			var fe *cmdutil.FlagError
			if errors.As(err, &fe) {
				return err
			}
			if !cmd.HasSubCommands() && len(args) > 0 && strings.HasPrefix(err.Error(), "unknown command") {
				err = fmt.Errorf("'%s' takes no arguments, got \"%s\"", cmd.CommandPath(), safetext.Clean(args[0]))
			}
			return &cmdutil.FlagError{Err: err}
		}
	}
	for _, sub := range c.Commands() {
		usageErrors(sub)
	}
}

// unknownCommand is the usage error of "movitera tokens frob": it names
// the closest command, or the ones there are.
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command \"%s\" for '%s'", safetext.Clean(name), cmd.CommandPath())
	shells := cmd.Name() == "completion" && cmd.Parent() == cmd.Root()
	if shells {
		msg = fmt.Sprintf("no completion for shell \"%s\"", safetext.Clean(name))
	} else if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(name); len(s) > 0 && !shells {
		return cmdutil.FlagErrorf("%s: did you mean '%s %s'?", msg, cmd.CommandPath(), s[0])
	}
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return cmdutil.FlagErrorf("%s: use one of %s", msg, strings.Join(names, ", "))
}

func newVersionCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(f.IO.Out, "movitera %s (commit %s, built %s)\n", f.Build.Version, f.Build.Commit, f.Build.Date)
			return err
		},
	}
}
