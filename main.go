// Command movitera is the command-line client of Movitera's team vault and,
// with "movitera server", its reference server.
package main

import (
	"os"

	"github.com/movitera/movitera/cmd"
)

func main() {
	os.Exit(cmd.Main())
}
