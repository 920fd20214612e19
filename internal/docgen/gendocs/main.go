// Command gendocs regenerates docs/reference and docs/man from the command
// tree. Run it through "make docs".
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/movitera/movitera/internal/docgen"
)

func main() {
	reference := flag.String("reference", "docs/reference", "directory for the markdown reference")
	man := flag.String("man", "docs/man", "directory for the man pages")
	flag.Parse()
	if err := docgen.Generate(docgen.Root(), *reference, *man); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gendocs: wrote %s and %s\n", *reference, *man)
}
