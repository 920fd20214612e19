package cmd

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/credentials"
	"github.com/movitera/movitera/internal/iostreams"
	"github.com/movitera/movitera/internal/movitera"
)

func logoutSetup(t *testing.T, answer string, tty bool) (*LogoutOptions, *credentials.Memory, *fakeVault, func() string) {
	v := &fakeVault{}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	ios, in, _, errOut := iostreams.Test()
	ios.SetTTY(tty, tty, tty)
	in.WriteString(answer)
	kr := credentials.NewMemory()
	ctx := context.Background()
	tok := validCLISecret(t)
	_ = kr.Set(ctx, srv.URL, "acme", tok)
	_ = kr.Set(ctx, srv.URL, "globex", "mvc_other")
	cfg := &config.Config{Server: srv.URL, Team: "acme"}
	stores := &credentials.Stores{Keyring: kr, File: credentials.NewMemory()}
	f := testFactory(cfg, stores)
	return &LogoutOptions{
		IO: ios, Config: f.Config, Stores: f.Credentials, Getenv: func(string) string { return "" },
		Client: func() (*client.Client, error) { return client.New(client.Options{Server: srv.URL}) },
		Stored: func(ctx context.Context, c *config.Config) (*cmdutil.Credential, error) {
			return storedCredential(ctx, f, c)
		},
	}, kr, v, errOut.String
}

// validCLISecret makes a CLI secret with a right checksum.
func validCLISecret(t *testing.T) string {
	s, err := newCLISecretForTest()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLogoutNeedsYesWithoutTerminal(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := testFactory(&config.Config{Server: "http://h", Team: "acme"}, &credentials.Stores{Keyring: untouchable{t}, File: untouchable{t}})
	f.IO = ios
	cmd := newLogoutCmd(f, func(context.Context, *LogoutOptions) error { t.Fatal("ran"); return nil })
	cmd.SetArgs(nil)
	err := cmd.Execute()
	var fe *cmdutil.FlagError
	if !errors.As(err, &fe) || err.Error() != "--yes is required to log out without a terminal" {
		t.Fatalf("got %v", err)
	}
}

func TestLogoutDeclined(t *testing.T) {
	opts, kr, v, stderr := logoutSetup(t, "n\n", true)
	err := runLogout(context.Background(), opts)
	if !errors.Is(err, cmdutil.ErrDeclined) {
		t.Fatalf("got %v", err)
	}
	if len(v.revoked) != 0 {
		t.Fatalf("revoked %v", v.revoked)
	}
	if _, err := kr.Get(context.Background(), opts.mustServer(t), "acme"); err != nil {
		t.Fatal("the token went")
	}
	if !strings.Contains(stderr(), "Log out of "+opts.mustServer(t)+" (team acme) and revoke the token mvc_") || !strings.Contains(stderr(), "[y/N]") {
		t.Fatalf("stderr %q", stderr())
	}
}

func TestLogoutConfirmed(t *testing.T) {
	opts, kr, v, stderr := logoutSetup(t, "y\n", true)
	server := opts.mustServer(t)
	tok, _ := kr.Get(context.Background(), server, "acme")
	opts.Getenv = func(k string) string {
		if k == "MOVITERA_TOKEN" {
			return "mvs_x"
		}
		return ""
	}
	if err := runLogout(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if len(v.revoked) != 1 || v.revoked[0] != tok {
		t.Fatalf("revoked %v", v.revoked)
	}
	if _, err := kr.Get(context.Background(), server, "acme"); !errors.Is(err, credentials.ErrNotFound) {
		t.Fatal("the token stayed")
	}
	if got, _ := kr.Get(context.Background(), server, "globex"); got != "mvc_other" {
		t.Fatal("another team's token went")
	}
	want := "✓ Logged out of " + server + " (team acme): token " + tok[:12] + " revoked and removed from memory\n" +
		"warning: MOVITERA_TOKEN is still set: commands keep using it; unset it to be logged out\n"
	if !strings.HasSuffix(stderr(), want) {
		t.Fatalf("stderr %q\nwant suffix %q", stderr(), want)
	}
}

func TestLogoutRevokeFailsIsAWarning(t *testing.T) {
	opts, kr, _, stderr := logoutSetup(t, "", false)
	opts.Yes = true
	server := opts.mustServer(t)
	opts.Client = func() (*client.Client, error) { return client.New(client.Options{Server: "http://127.0.0.1:1"}) }
	if err := runLogout(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Get(context.Background(), server, "acme"); !errors.Is(err, credentials.ErrNotFound) {
		t.Fatal("the token stayed")
	}
	if !strings.Contains(stderr(), "warning: could not revoke the token mvc_") || !strings.Contains(stderr(), "token mvc_") || !strings.Contains(stderr(), " removed from memory") {
		t.Fatalf("stderr %q", stderr())
	}
}

func (o *LogoutOptions) mustServer(t *testing.T) string {
	cfg, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Server
}

func newCLISecretForTest() (string, error) { return movitera.NewSecret(movitera.TypeCLI) }
