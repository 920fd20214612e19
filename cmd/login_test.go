package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/credentials"
	"github.com/movitera/movitera/internal/iostreams"
)

// Well-formed secrets (right length and checksum), never issued.
const (
	sdkSecret = "mvs_m7oxr2uhhoeBNO3b16lFMAG0ml2ECbDa1ku0DF"
	cliSecret = "mvc_AbCdEfGh0123456789AbCdEfGh0123452F7l9a"
)

func TestLoginFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want LoginOptions
		err  string
	}{
		{nil, LoginOptions{}, ""},
		{[]string{"--no-browser", "--insecure-storage"}, LoginOptions{NoBrowser: true, InsecureStorage: true}, ""},
		{[]string{"--with-token", "--team", "globex"}, LoginOptions{WithToken: true, ExplicitTeam: "globex"}, ""},
		{[]string{"--with-token", "--no-browser"}, LoginOptions{}, "--with-token and --no-browser cannot be used together: --with-token opens no browser"},
		{[]string{"extra"}, LoginOptions{}, `unknown command "extra" for "movitera login"`},
	} {
		ios, _, _, _ := iostreams.Test()
		root, f := NewRootCmd(ios)
		var got *LoginOptions
		// Replace the registered login with one that captures its options.
		for _, c := range root.Commands() {
			if c.Name() == "login" {
				root.RemoveCommand(c)
			}
		}
		root.AddCommand(newLoginCmd(f, func(_ context.Context, o *LoginOptions) error { got = o; return nil }))
		root.SetArgs(append([]string{"login"}, tc.args...))
		t.Setenv("MOVITERA_TEAM", "")
		err := root.Execute()
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%v: got %v, want %s", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got.NoBrowser != tc.want.NoBrowser || got.WithToken != tc.want.WithToken || got.InsecureStorage != tc.want.InsecureStorage || got.ExplicitTeam != tc.want.ExplicitTeam {
			t.Errorf("%v: got %+v", tc.args, got)
		}
	}
}

func TestReadToken(t *testing.T) {
	for in, want := range map[string]string{
		sdkSecret + "\r\n":          sdkSecret,
		"  " + sdkSecret + " \t\n":  sdkSecret,
		sdkSecret:                   sdkSecret,
		"\n\n" + sdkSecret + "\n\n": sdkSecret,
	} {
		got, err := readToken(strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v", in, got, err)
		}
	}
	for in, want := range map[string]string{
		"":                           "no token on stdin",
		" \r\n":                      "no token on stdin",
		sdkSecret + " " + sdkSecret:  "contains whitespace",
		sdkSecret + "\n" + sdkSecret: "contains whitespace",
		"mvs_a\x1b[2Jb":              "contains control characters",
		"mvs_a\x00b":                 "contains control characters",
		"hunter2":                    "not a movitera access token",
		sdkSecret[:41] + "X":         "not a movitera access token", // bad checksum
		strings.Repeat("a", 70000):   "more than a token",
	} {
		_, err := readToken(strings.NewReader(in))
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), want) {
			t.Errorf("%.20q: got %v, want %q", in, err, want)
		}
	}
}

func TestDeviceName(t *testing.T) {
	for h, want := range map[string]string{
		"meu macbook":            "meu macbook · cli",
		"":                       "movitera · cli",
		"evil\x1b[2J":            "evil[2J · cli",
		strings.Repeat("h", 200): strings.Repeat("h", 90) + " · cli",
	} {
		if got := deviceName(func() (string, error) { return h, nil }); got != want {
			t.Errorf("%q: %q, want %q", h, got, want)
		}
	}
	if got := deviceName(func() (string, error) { return "", errors.New("x") }); got != "movitera · cli" {
		t.Error(got)
	}
}

// fakeVault answers GET /api/v1/user for known tokens and records
// revocations.
type fakeVault struct {
	mu      sync.Mutex
	tokens  map[string]string // secret → team
	revoked []string
	role    string // the role in acme; "manager" when empty
}

func (v *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api/v1/user":
		team, ok := v.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(401)
			w.Write([]byte(`{"status":401,"code":"unauthenticated","detail":"unknown token"}`))
			return
		}
		role := v.role
		if role == "" {
			role = "manager"
		}
		roleJSON, _ := json.Marshal(role)
		w.Write([]byte(`{"user":{"id":"usr_1","email":"dev@movitera.local","name":"Dev User"},
"teams":[{"slug":"acme","name":"Acme","role":` + string(roleJSON) + `},{"slug":"globex","name":"Globex","role":"member"}],
"token":{"id":"tok_0123456789abcdef","name":"laptop · cli","client_type":"sdk","prefix":"mvs_m7oxr2uh","team":"` + team + `",
"created_at":"2026-01-01T00:00:00Z","last_used_at":null,"expires_at":"2026-04-01T00:00:00Z","revoked_at":null}}`))
	case "/oauth/revoke":
		r.ParseForm()
		v.revoked = append(v.revoked, r.PostForm.Get("token"))
		w.Write([]byte(`{}`))
	default:
		w.WriteHeader(404)
	}
}

func loginOptions(t *testing.T, url string, stores *credentials.Stores, stdin string) (*LoginOptions, *bytes.Buffer, *bytes.Buffer) {
	t.Setenv("MOVITERA_CONFIG_DIR", t.TempDir())
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	cfg, err := config.Load(config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server = url
	return &LoginOptions{
		IO:          ios,
		Config:      func() (*config.Config, error) { return cfg, nil },
		Client:      func() (*client.Client, error) { return client.New(client.Options{Server: url}) },
		Credentials: func() (*credentials.Stores, error) { return stores, nil },
		Getenv:      func(string) string { return "" },
		Hostname:    func() (string, error) { return "laptop", nil },
		WithToken:   true,
	}, out, errOut
}

func TestLoginWithTokenStores(t *testing.T) {
	v := &fakeVault{tokens: map[string]string{sdkSecret: "acme"}}
	srv := httptest.NewServer(v)
	defer srv.Close()
	kr := credentials.NewMemory()
	opts, out, errOut := loginOptions(t, srv.URL, &credentials.Stores{Keyring: kr, File: credentials.NewMemory()}, "  "+sdkSecret+"\r\n")
	if err := runLogin(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got, _ := kr.Get(context.Background(), srv.URL, "acme"); got != sdkSecret {
		t.Fatalf("stored %q", got)
	}
	want := "✓ Logged in to " + srv.URL + " as dev@movitera.local (team acme, manager); token stored in memory\n"
	if out.Len() != 0 || errOut.String() != want {
		t.Fatalf("stdout %q\nstderr %q\nwant %q", out, errOut, want)
	}
	cfg, _ := opts.Config()
	if cfg.Team != "acme" {
		t.Fatalf("team not recorded: %+v", cfg)
	}
}

// failingStore accepts nothing.
type failingStore struct{ *credentials.Memory }

func (failingStore) Set(context.Context, string, string, string) error {
	return &credentials.UnavailableError{Cause: "locked"}
}

func TestLoginNothingStoredNoLoggedIn(t *testing.T) {
	v := &fakeVault{tokens: map[string]string{sdkSecret: "acme"}}
	srv := httptest.NewServer(v)
	defer srv.Close()
	opts, _, errOut := loginOptions(t, srv.URL, &credentials.Stores{Keyring: failingStore{credentials.NewMemory()}, File: credentials.NewMemory()}, sdkSecret)
	err := runLogin(context.Background(), opts)
	want := "cannot use the system keyring (locked): log in with --insecure-storage to keep the token in a 0600 file, or set MOVITERA_TOKEN (nothing was stored)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if strings.Contains(errOut.String(), "Logged in") {
		t.Fatalf("stderr %q", errOut)
	}
	// A token given with --with-token is the person's: never revoked here.
	if len(v.revoked) != 0 {
		t.Fatalf("revoked %v", v.revoked)
	}
}

func TestLoginInterrupted(t *testing.T) {
	v := &fakeVault{tokens: map[string]string{sdkSecret: "acme"}}
	srv := httptest.NewServer(v)
	defer srv.Close()
	kr := credentials.NewMemory()
	opts, _, _ := loginOptions(t, srv.URL, &credentials.Stores{Keyring: kr, File: credentials.NewMemory()}, sdkSecret)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := runLogin(ctx, opts)
	if !errors.Is(err, cmdutil.ErrCancel) || cmdutil.ExitCode(err) != 130 {
		t.Fatalf("got %v", err)
	}
	if _, err := kr.Get(context.Background(), srv.URL, "acme"); !errors.Is(err, credentials.ErrNotFound) {
		t.Fatal("something was stored")
	}
}

// At a terminal, --with-token asks for the token without echoing it, and
// Ctrl-C interrupts at once (exit 130).
func TestLoginWithTokenAtATerminal(t *testing.T) {
	v := &fakeVault{tokens: map[string]string{sdkSecret: "acme"}}
	srv := httptest.NewServer(v)
	defer srv.Close()
	kr := credentials.NewMemory()
	opts, out, errOut := loginOptions(t, srv.URL, &credentials.Stores{Keyring: kr, File: credentials.NewMemory()}, sdkSecret+"\n")
	opts.IO.SetTTY(true, true, true)
	if err := runLogin(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got, _ := kr.Get(context.Background(), srv.URL, "acme"); got != sdkSecret {
		t.Fatalf("stored %q", got)
	}
	if !strings.HasPrefix(errOut.String(), "Paste your token: \n") || strings.Contains(errOut.String()+out.String(), sdkSecret) {
		t.Fatalf("stdout %q\nstderr %q", out, errOut)
	}

	// Ctrl-C while waiting: no input ever comes.
	opts, _, _ = loginOptions(t, srv.URL, &credentials.Stores{Keyring: credentials.NewMemory(), File: credentials.NewMemory()}, "")
	opts.IO.In = blockingReader{}
	opts.IO.SetTTY(true, true, true)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := runLogin(ctx, opts)
	if !errors.Is(err, cmdutil.ErrCancel) || cmdutil.ExitCode(err) != 130 || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
}

// blockingReader never returns, like a terminal nobody types in.
type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

// lateStore is a keyring whose write of one token fails with setErr (a
// timeout: it may land later); it records the calls from then on. With
// getErr, reading team acme's entry fails.
type lateStore struct {
	*credentials.Memory
	late      string
	setErr    error
	deleteErr error
	getErr    error
	calls     []string
}

func (s *lateStore) Get(ctx context.Context, server, team string) (string, error) {
	if s.getErr != nil && team == "acme" {
		return "", s.getErr
	}
	return s.Memory.Get(ctx, server, team)
}

func (s *lateStore) Set(ctx context.Context, server, team, token string) error {
	if token == s.late {
		s.calls = append(s.calls, "set new")
		return s.setErr
	}
	s.calls = append(s.calls, "set "+token)
	return s.Memory.Set(ctx, server, team, token)
}

func (s *lateStore) Delete(ctx context.Context, server, team string) error {
	s.calls = append(s.calls, "delete")
	if s.deleteErr != nil {
		return s.deleteErr
	}
	return s.Memory.Delete(ctx, server, team)
}

// A keyring write that timed out is undone: the previous token put back,
// or the entry removed when it held none. When what it held could not be
// read, it is left alone (it may hold a valid token), and the error says
// so. Other failures wrote nothing.
func TestLoginUndoesTimedOutWrite(t *testing.T) {
	timeout := &credentials.UnavailableError{Cause: "no answer within 5s", Err: credentials.ErrTimeout}
	const failed = "cannot use the system keyring (no answer within 5s): log in with --insecure-storage to keep the token in a 0600 file, or set MOVITERA_TOKEN"
	for _, tc := range []struct {
		name      string
		prev      string
		getErr    error
		setErr    error
		deleteErr error
		calls     string
		want      string
	}{
		{"no previous token", "", nil, timeout, nil, "[set new delete]", failed + " (nothing was stored)"},
		{"a previous token", cliSecret, nil, timeout, nil, "[set new set " + cliSecret + "]", failed + " (nothing was stored)"},
		{"undo unanswered", "", nil, timeout, timeout, "[set new delete]", failed + " (the keyring may still store the token once it answers)"},
		{"previous token unread", cliSecret, timeout, timeout, nil, "[set new]",
			failed + " (the keyring may still store the token once it answers; the keyring entry was left as it was, since what it held before could not be read)"},
		{"not a timeout", "", nil, &credentials.UnavailableError{Cause: "locked"}, nil, "[set new]",
			"cannot use the system keyring (locked): log in with --insecure-storage to keep the token in a 0600 file, or set MOVITERA_TOKEN (nothing was stored)"},
	} {
		v := &fakeVault{tokens: map[string]string{sdkSecret: "acme"}}
		srv := httptest.NewServer(v)
		kr := &lateStore{Memory: credentials.NewMemory(), late: sdkSecret, setErr: tc.setErr, deleteErr: tc.deleteErr, getErr: tc.getErr}
		if tc.prev != "" {
			must(t, kr.Memory.Set(context.Background(), srv.URL, "acme", tc.prev))
		}
		opts, _, _ := loginOptions(t, srv.URL, &credentials.Stores{Keyring: kr, File: credentials.NewMemory()}, sdkSecret)
		err := runLogin(context.Background(), opts)
		srv.Close()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v\nwant %s", tc.name, err, tc.want)
		}
		if got := fmt.Sprint(kr.calls); got != tc.calls {
			t.Errorf("%s: calls %s, want %s", tc.name, got, tc.calls)
		}
		if got, _ := kr.Memory.Get(context.Background(), srv.URL, "acme"); got != tc.prev {
			t.Errorf("%s: the keyring holds %q, want %q", tc.name, got, tc.prev)
		}
	}
}

// What a failed store of a device-flow token says, in every case.
func TestStoreFailed(t *testing.T) {
	base := errors.New("cannot store")
	rerr := errors.New("server down")
	undone := errors.New("no answer")
	for _, tc := range []struct {
		fromDevice bool
		undoErr    error
		rerr       error
		want       string
	}{
		{true, nil, nil, "cannot store (nothing was stored, and the new token was revoked)"},
		{true, undone, nil, "cannot store (the new token was revoked; if the keyring stores it once it answers, the next command removes it)"},
		{true, errPrevUnread, nil, "cannot store (the new token was revoked; if the keyring stores it once it answers, the next command removes it; the keyring entry was left as it was, since what it held before could not be read)"},
		{true, nil, rerr, "cannot store (nothing was stored; the new token mvc_AbCdEfGh could not be revoked: server down)"},
		{true, undone, rerr, "cannot store (the keyring may still store the token once it answers; the new token mvc_AbCdEfGh could not be revoked: server down)"},
		{true, errPrevUnread, rerr, "cannot store (the keyring may still store the token once it answers; the keyring entry was left as it was, since what it held before could not be read; the new token mvc_AbCdEfGh could not be revoked: server down)"},
		{false, nil, nil, "cannot store (nothing was stored)"},
		{false, undone, nil, "cannot store (the keyring may still store the token once it answers)"},
		{false, errPrevUnread, nil, "cannot store (the keyring may still store the token once it answers; the keyring entry was left as it was, since what it held before could not be read)"},
	} {
		err := storeFailed(base, tc.fromDevice, tc.undoErr, cliSecret, tc.rerr)
		if err.Error() != tc.want || !errors.Is(err, base) {
			t.Errorf("%+v: got %v\nwant %s", tc, err, tc.want)
		}
	}
}
