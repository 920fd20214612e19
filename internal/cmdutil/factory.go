package cmdutil

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/credentials"
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

	// Config loads the settings once (flag > env > file > default).
	Config func() (*config.Config, error)
	// HTTPClient is the one HTTP client: proxy, CA, timeout, debug trace.
	HTTPClient func() (*http.Client, error)
	// Client returns an API client for the configured server, without a
	// credential (device flow, RFC 7009 revocation).
	Client func() (*client.Client, error)
	// AuthClient returns an API client carrying the credential for the
	// configured server and team, and where that credential came from.
	AuthClient func(ctx context.Context) (*client.Client, *Credential, error)
	// Browser opens a URL in the person's browser.
	Browser func(url string) error
	// Credentials returns the stores a login may keep its token in: the
	// system keyring, and the 0600 file of --insecure-storage. Building
	// them touches neither.
	Credentials func() (*credentials.Stores, error)
}

// Credential is the token a command runs with and where it lives.
type Credential struct {
	Token    string
	Source   string // "environment", "keyring" or "file"
	Location string // e.g. the keyring service, or the file's path
	Server   string
	Team     string
}

// Memo wraps a constructor so that it runs once.
func Memo[T any](build func() (T, error)) func() (T, error) {
	var once sync.Once
	var v T
	var err error
	return func() (T, error) {
		once.Do(func() { v, err = build() })
		return v, err
	}
}

// DebugWriter returns where --debug traces go, or nil without --debug.
func DebugWriter(cfg *config.Config, stderr io.Writer) io.Writer {
	if cfg.Debug {
		return stderr
	}
	return nil
}
