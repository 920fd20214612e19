package cmd

import (
	"cmp"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/cmdutil"
)

// Help and usage are written by plain functions rather than cobra
// templates: a template is parsed and run through reflection on every
// --help and every usage error, which showed up in start-up profiles
// (docs/performance.md). The layout is cobra's usual one, with two
// differences: every help ends with the exit codes, and a command
// group (runnable only to refuse an unknown subcommand) shows
// "movitera tokens [command]" without a usage line of its own.

// setHelp installs the help and usage functions on root and so on every
// command, and makes "movitera help TOPIC" a usage error (exit 2) for a
// topic that is no command.
func setHelp(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			c.Args = func(_ *cobra.Command, args []string) error {
				if found, rest, err := root.Find(args); err != nil || found == nil || len(rest) > 0 {
					return cmdutil.FlagErrorf("unknown help topic %q: run 'movitera help' to see the commands", strings.Join(args, " "))
				}
				return nil
			}
		}
	}
	root.SetUsageFunc(func(c *cobra.Command) error {
		return writeUsage(c.OutOrStderr(), c)
	})
	root.SetHelpFunc(func(c *cobra.Command, _ []string) {
		w := c.OutOrStdout()
		if text := strings.TrimRight(cmp.Or(c.Long, c.Short), " \t\r\n"); text != "" {
			fmt.Fprintf(w, "%s\n\n", text)
		}
		if c.Runnable() || c.HasSubCommands() {
			writeUsage(w, c)
		}
		fmt.Fprintf(w, "\n%s\n", cmdutil.ExitCodesHelp)
	})
}

// writeUsage writes c's usage: how to call it, its aliases, examples,
// subcommands and flags.
func writeUsage(w io.Writer, c *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:")
	group := c.HasAvailableSubCommands()
	if c.Runnable() && !group {
		b.WriteString("\n  " + c.UseLine())
	}
	if group {
		b.WriteString("\n  " + c.CommandPath() + " [command]")
	}
	if len(c.Aliases) > 0 {
		b.WriteString("\n\nAliases:\n  " + c.NameAndAliases())
	}
	if c.HasExample() {
		b.WriteString("\n\nExamples:\n" + c.Example)
	}
	if group {
		b.WriteString("\n\nAvailable Commands:")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(&b, "\n  %-*s %s", sub.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		b.WriteString("\n\nFlags:\n" + strings.TrimRight(c.LocalFlags().FlagUsages(), " \t\r\n"))
	}
	if c.HasAvailableInheritedFlags() {
		b.WriteString("\n\nGlobal Flags:\n" + strings.TrimRight(c.InheritedFlags().FlagUsages(), " \t\r\n"))
	}
	if c.HasHelpSubCommands() {
		b.WriteString("\n\nAdditional help topics:")
		for _, sub := range c.Commands() {
			if sub.IsAdditionalHelpTopicCommand() {
				fmt.Fprintf(&b, "\n  %-*s %s", sub.CommandPathPadding(), sub.CommandPath(), sub.Short)
			}
		}
	}
	if group {
		fmt.Fprintf(&b, "\n\nUse \"%s [command] --help\" for more information about a command.", c.CommandPath())
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
