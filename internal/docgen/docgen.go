// Package docgen writes the CLI reference, in markdown and as man pages,
// from the cobra command tree itself, so that the reference never drifts
// from the binary. "make docs" runs it; its test fails when the committed
// copies under docs/ are stale.
package docgen

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/movitera/movitera/cmd"
	"github.com/movitera/movitera/internal/iostreams"
)

// manDate is the date printed in the man pages' footer. It is fixed so that
// the generated files depend on the command tree alone; bump it with a
// release when the pages change a lot.
var manDate = time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC)

// Root builds the command tree as the binary does, with test streams (no
// terminal, no colour) and with the commands cobra adds only at run time
// (completion, --help, --version), so that they are documented too.
func Root() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	root, _ := cmd.NewRootCmd(ios)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	walk(root, func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		c.DisableAutoGenTag = true
	})
	root.InitDefaultVersionFlag()
	return root
}

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// Generate writes the markdown reference into referenceDir and the man
// pages (section 1) into manDir, creating both. Files of earlier runs that
// no command produces any more are removed.
func Generate(root *cobra.Command, referenceDir, manDir string) error {
	for _, d := range []struct{ dir, ext string }{{referenceDir, ".md"}, {manDir, ".1"}} {
		if err := os.MkdirAll(d.dir, 0o755); err != nil {
			return err
		}
		old, err := filepath.Glob(filepath.Join(d.dir, "*"+d.ext))
		if err != nil {
			return err
		}
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	if err := doc.GenMarkdownTree(root, referenceDir); err != nil {
		return fmt.Errorf("markdown reference: %w", err)
	}
	date := manDate
	header := &doc.GenManHeader{
		Title:   "MOVITERA",
		Section: "1",
		Date:    &date,
		Source:  "Movitera",
		Manual:  "Movitera Manual",
	}
	if err := doc.GenManTree(root, header, manDir); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	return nil
}
