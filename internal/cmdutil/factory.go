package cmdutil

import (
	"time"

	"github.com/movitera/movitera/internal/iostreams"
)

// BuildInfo is set by the linker through cmd's variables.
type BuildInfo struct {
	Version, Commit, Date string
}

// Factory holds the dependencies commands share. Everything costly is built
// lazily, on first use, so that help, version and completion touch neither
// the config file, the keyring nor the network.
type Factory struct {
	IO    *iostreams.IOStreams
	Build BuildInfo
	Now   func() time.Time
}
