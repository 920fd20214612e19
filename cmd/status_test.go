package cmd

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/iostreams"
	"github.com/movitera/movitera/internal/movitera"
)

func statusOptions(t *testing.T, token, source, location string) (*StatusOptions, *iostreams.IOStreams, func() (string, string)) {
	return statusOptionsWith(t, &fakeVault{tokens: map[string]string{sdkSecret: "acme"}}, token, source, location)
}

func statusOptionsWith(t *testing.T, v *fakeVault, token, source, location string) (*StatusOptions, *iostreams.IOStreams, func() (string, string)) {
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	ios, _, out, errOut := iostreams.Test()
	return &StatusOptions{
		IO:  ios,
		Now: func() time.Time { return time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC) },
		AuthClient: func(context.Context) (*client.Client, *cmdutil.Credential, error) {
			c, err := client.New(client.Options{Server: srv.URL, Token: token})
			return c, &cmdutil.Credential{Token: token, Source: source, Location: location, Server: srv.URL, Team: "acme"}, err
		},
	}, ios, func() (string, string) { return out.String(), errOut.String() }
}

func TestStatusText(t *testing.T) {
	opts, _, outputs := statusOptions(t, sdkSecret, "keyring", "the system keyring")
	if err := runStatus(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	out, errOut := outputs()
	c, _, _ := opts.AuthClient(context.Background())
	want := "Server:     " + c.Server() + "\n" +
		"User:       Dev User <dev@movitera.local>\n" +
		"Team:       acme (manager)\n" +
		"Token:      laptop · cli (SDK, mvs_m7oxr2uh)\n" +
		"Expires:    in 30 days (2026-04-01)\n" +
		"Stored in:  the system keyring\n"
	if out != want || errOut != "" {
		t.Fatalf("stdout:\n%s\nwant:\n%s\nstderr %q", out, want, errOut)
	}
}

func TestStatusJSON(t *testing.T) {
	opts, _, outputs := statusOptions(t, sdkSecret, "file", "/cfg/credentials.json")
	opts.JSON = true
	if err := runStatus(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	out, errOut := outputs()
	var got struct {
		Server string
		User   struct{ Email string }
		Team   struct{ Slug, Role string }
		Token  struct{ Prefix, Type, State string }
		Days   int                             `json:"days_left"`
		Store  struct{ Kind, Location string } `json:"storage"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || errOut != "" {
		t.Fatalf("%v: %s %s", err, out, errOut)
	}
	if got.User.Email != "dev@movitera.local" || got.Team.Role != "manager" || got.Token.Prefix != "mvs_m7oxr2uh" || got.Token.Type != "sdk" ||
		got.Token.State != "active" || got.Days != 30 || got.Store.Kind != "file" || got.Store.Location != "/cfg/credentials.json" {
		t.Fatalf("%+v", got)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("stdout is not one JSON line: %q", out)
	}
}

func TestStatusRejected(t *testing.T) {
	unknown, err := movitera.NewSecret(movitera.TypeSDK)
	if err != nil {
		t.Fatal(err)
	}
	opts, _, outputs := statusOptions(t, unknown, "environment", "MOVITERA_TOKEN")
	err = runStatus(context.Background(), opts)
	if cmdutil.ExitCode(err) != 4 {
		t.Fatalf("exit %d: %v", cmdutil.ExitCode(err), err)
	}
	if !strings.HasPrefix(err.Error(), "the token "+unknown[:12]+" from MOVITERA_TOKEN was rejected by http://127.0.0.1:") {
		t.Fatal(err)
	}
	if out, _ := outputs(); out != "" {
		t.Fatalf("stdout %q", out)
	}
}

func TestStatusNeutralisesServerText(t *testing.T) {
	v := &fakeVault{tokens: map[string]string{sdkSecret: "acme"}, role: "manager\x1b]0;PWNED\x07\x1b[2J"}
	opts, _, outputs := statusOptionsWith(t, v, sdkSecret, "keyring", "the system keyring")
	if err := runStatus(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	out, _ := outputs()
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
		t.Fatalf("escape sequence from the server reached the terminal: %q", out)
	}
	if !strings.Contains(out, `Team:       acme (manager\x1b]0;PWNED\a\x1b[2J)`) {
		t.Fatalf("stdout %q", out)
	}
}
