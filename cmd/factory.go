package cmd

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/credentials"
	"github.com/movitera/movitera/internal/devicelogin"
	"github.com/movitera/movitera/internal/iostreams"
)

// newFactory wires the lazy dependencies. root gives access to the global
// flags once cobra has parsed them.
func newFactory(ios *iostreams.IOStreams, root *cobra.Command) *cmdutil.Factory {
	f := &cmdutil.Factory{
		IO:    ios,
		Build: cmdutil.BuildInfo{Version: version, Commit: commit, Date: date},
		Now:   time.Now,
	}
	f.Config = cmdutil.Memo(func() (*config.Config, error) {
		flags := root.PersistentFlags()
		file, _ := flags.GetString("config")
		cfg, err := config.Load(config.Options{Flags: flags, ConfigFile: file})
		if err != nil {
			return nil, err
		}
		for _, w := range cfg.Warnings {
			ios.ErrOut.Write([]byte("warning: " + w + "\n"))
		}
		return cfg, nil
	})
	f.HTTPClient = cmdutil.Memo(func() (*http.Client, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		return client.NewHTTPClient(client.HTTPOptions{Debug: cmdutil.DebugWriter(cfg, ios.ErrOut)}), nil
	})
	f.Client = cmdutil.Memo(func() (*client.Client, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		hc, err := f.HTTPClient()
		if err != nil {
			return nil, err
		}
		return client.New(client.Options{Server: cfg.Server, HTTPClient: hc, UserAgent: "movitera/" + version})
	})
	f.Credentials = cmdutil.Memo(func() (*credentials.Stores, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		file := credentials.NewFile(cfg.Dir)
		file.Warn = func(w string) { fmt.Fprintln(ios.ErrOut, "warning: "+w) }
		return &credentials.Stores{Keyring: credentials.NewKeyring(cfg.KeyringTimeout), File: file}, nil
	})
	f.Browser = devicelogin.Browser{}.Open
	f.AuthClient = func(ctx context.Context) (*client.Client, *cmdutil.Credential, error) {
		c, err := f.Client()
		if err != nil {
			return nil, nil, err
		}
		cred, err := resolveCredential(ctx, f)
		if err != nil {
			return nil, nil, err
		}
		opts := client.Options{Server: c.Server(), Token: cred.Token, HTTPClient: c.HTTPClient(), UserAgent: "movitera/" + version}
		opts.Rejected = func(ctx context.Context, ae *client.APIError) error { return rejectedStored(ctx, f, cred, ae) }
		if cred.Source == "environment" {
			opts.Rejected = func(_ context.Context, ae *client.APIError) error { return rejectedEnv(cred, ae) }
		}
		ac, err := client.New(opts)
		return ac, cred, err
	}
	return f
}
