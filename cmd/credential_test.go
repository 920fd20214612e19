package cmd

import (
	"context"
	"errors"
	"testing"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/credentials"
	"github.com/movitera/movitera/internal/iostreams"
)

// untouchable fails the test when any of its methods is called.
type untouchable struct{ t *testing.T }

func (u untouchable) Get(context.Context, string, string) (string, error) {
	u.t.Fatal("the keyring was touched")
	return "", nil
}
func (u untouchable) Set(context.Context, string, string, string) error {
	u.t.Fatal("the keyring was touched")
	return nil
}
func (u untouchable) Delete(context.Context, string, string) error {
	u.t.Fatal("the keyring was touched")
	return nil
}
func (u untouchable) DeleteIf(context.Context, string, string, string) error {
	u.t.Fatal("the keyring was touched")
	return nil
}
func (untouchable) Name() string     { return "keyring" }
func (untouchable) Location() string { return "the system keyring" }

func testFactory(cfg *config.Config, stores *credentials.Stores) *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	return &cmdutil.Factory{
		IO:          ios,
		Config:      func() (*config.Config, error) { return cfg, nil },
		Credentials: func() (*credentials.Stores, error) { return stores, nil },
	}
}

func TestResolveCredentialOrder(t *testing.T) {
	ctx := context.Background()
	const server = "http://127.0.0.1:8270"

	// MOVITERA_TOKEN: used as given, no store touched.
	f := testFactory(&config.Config{Server: server, Team: "acme", Token: "mvo_env"}, &credentials.Stores{Keyring: untouchable{t}, File: untouchable{t}})
	cred, err := resolveCredential(ctx, f)
	if err != nil || cred.Token != "mvo_env" || cred.Source != "environment" {
		t.Fatalf("%+v %v", cred, err)
	}

	// The file wins over the keyring when it has an entry.
	file, kr := credentials.NewMemory(), credentials.NewMemory()
	_ = kr.Set(ctx, server, "acme", "mvc_keyring")
	_ = file.Set(ctx, server, "acme", "mvc_file")
	f = testFactory(&config.Config{Server: server, Team: "acme"}, &credentials.Stores{Keyring: kr, File: file})
	if cred, _ := resolveCredential(ctx, f); cred.Token != "mvc_file" {
		t.Fatalf("got %+v", cred)
	}
	_ = file.Delete(ctx, server, "acme")
	if cred, _ := resolveCredential(ctx, f); cred.Token != "mvc_keyring" || cred.Source != "memory" {
		t.Fatalf("got %+v", cred)
	}

	// Another team's entry is not ours: exit 4.
	f = testFactory(&config.Config{Server: server, Team: "globex"}, &credentials.Stores{Keyring: kr, File: file})
	_, err = resolveCredential(ctx, f)
	if cmdutil.ExitCode(err) != 4 || err.Error() != "not logged in to http://127.0.0.1:8270 for team globex: run 'movitera login', or set MOVITERA_TOKEN" {
		t.Fatalf("got %v", err)
	}
	// No team chosen yet: not logged in, and no store touched.
	f = testFactory(&config.Config{Server: server}, &credentials.Stores{Keyring: untouchable{t}, File: untouchable{t}})
	if _, err := resolveCredential(ctx, f); cmdutil.ExitCode(err) != 4 {
		t.Fatalf("got %v", err)
	}
}

type brokenStore struct{ credentials.Store }

func (brokenStore) Get(context.Context, string, string) (string, error) {
	return "", &credentials.UnavailableError{Cause: "no D-Bus session"}
}

func TestResolveCredentialKeyringUnavailable(t *testing.T) {
	f := testFactory(&config.Config{Server: "http://h", Team: "acme"}, &credentials.Stores{Keyring: brokenStore{}, File: credentials.NewMemory()})
	_, err := resolveCredential(context.Background(), f)
	var ue *credentials.UnavailableError
	if cmdutil.ExitCode(err) != 4 || !errors.As(err, &ue) {
		t.Fatalf("got %v", err)
	}
}

// undeletable holds tokens but cannot remove them.
type undeletable struct{ *credentials.Memory }

func (undeletable) Delete(context.Context, string, string) error {
	return &credentials.UnavailableError{Cause: "no answer within 5s", Err: credentials.ErrTimeout}
}
func (u undeletable) DeleteIf(ctx context.Context, server, team, _ string) error {
	return u.Delete(ctx, server, team)
}
func (undeletable) Name() string     { return credentials.NameKeyring }
func (undeletable) Location() string { return "the system keyring" }

// The 401 challenges of the server: a request without a token, and one
// whose token it refused (internal/server bearerChallenge).
const (
	noTokenChallenge = `Bearer realm="movitera"`
	refusedChallenge = `Bearer realm="movitera", error="invalid_token"`
)

// A stored token the server calls revoked or unknown is removed from its
// store, if the store still holds it; the error says so, exit 4. A 401
// for a request that arrived without its token removes nothing.
func TestRejectedStored(t *testing.T) {
	ctx := context.Background()
	const server = "http://127.0.0.1:8270"
	revoked := &client.APIError{Status: 401, Code: client.CodeTokenRevoked, Detail: "This access token was revoked.", Challenge: refusedChallenge}
	unknown := &client.APIError{Status: 401, Code: client.CodeUnauthenticated, Detail: "The server does not know this access token.", Challenge: refusedChallenge}
	noToken := &client.APIError{Status: 401, Code: client.CodeUnauthenticated, Detail: `This request has no access token. Sign in with "movitera login" or set MOVITERA_TOKEN.`, Challenge: noTokenChallenge}
	for _, tc := range []struct {
		name   string
		store  credentials.Store
		file   bool   // the credential came from the --insecure-storage file
		stored string // in the store when the server answers
		ae     *client.APIError
		want   string
		left   string // in the store afterwards
	}{
		{"revoked", credentials.NewMemory(), false, cliSecret, revoked,
			"the token mvc_AbCdEfGh stored for http://127.0.0.1:8270 (team acme) is no longer valid (the server says it was revoked) and was removed from the system keyring: run 'movitera login --team acme' to sign in again", ""},
		{"unknown", credentials.NewMemory(), false, cliSecret, unknown,
			"the token mvc_AbCdEfGh stored for http://127.0.0.1:8270 (team acme) is no longer valid (the server does not know it) and was removed from the system keyring: run 'movitera login --team acme' to sign in again", ""},
		{"unknown, from the file", credentials.NewMemory(), true, cliSecret, unknown,
			"the token mvc_AbCdEfGh stored for http://127.0.0.1:8270 (team acme) is no longer valid (the server does not know it) and was removed from /cfg/credentials.json (plain text, 0600; --insecure-storage): run 'movitera login --team acme --insecure-storage' to sign in again", ""},
		{"no token arrived", credentials.NewMemory(), false, cliSecret, noToken,
			"movitera sent the token mvc_AbCdEfGh stored in the system keyring, but the server at http://127.0.0.1:8270 received no token: a proxy between here and it may be dropping the Authorization header (the token was kept)", cliSecret},
		{"unauthenticated, no challenge", credentials.NewMemory(), false, cliSecret, &client.APIError{Status: 401, Code: client.CodeUnauthenticated},
			"movitera sent the token mvc_AbCdEfGh stored in the system keyring, but the server at http://127.0.0.1:8270 received no token: a proxy between here and it may be dropping the Authorization header (the token was kept)", cliSecret},
		{"replaced since", credentials.NewMemory(), false, sdkSecret, revoked,
			"the token mvc_AbCdEfGh stored for http://127.0.0.1:8270 (team acme) is no longer valid (the server says it was revoked): run 'movitera login --team acme' to sign in again", sdkSecret},
		{"replaced meanwhile", &loginMeanwhile{Memory: credentials.NewMemory(), token: sdkSecret}, false, cliSecret, revoked,
			"the token mvc_AbCdEfGh stored for http://127.0.0.1:8270 (team acme) is no longer valid (the server says it was revoked) and was removed from the system keyring: run 'movitera login --team acme' to sign in again", sdkSecret},
		{"removed since", credentials.NewMemory(), false, "", revoked,
			"the token mvc_AbCdEfGh stored for http://127.0.0.1:8270 (team acme) is no longer valid (the server says it was revoked): run 'movitera login --team acme' to sign in again", ""},
		{"cannot remove", undeletable{credentials.NewMemory()}, false, cliSecret, revoked,
			"the token mvc_AbCdEfGh stored for http://127.0.0.1:8270 (team acme) is no longer valid (the server says it was revoked) and could not be removed from the system keyring (no answer within 5s): run 'movitera login --team acme' to sign in again", cliSecret},
	} {
		if tc.stored != "" {
			must(t, tc.store.Set(ctx, server, "acme", tc.stored))
		}
		stores := &credentials.Stores{Keyring: tc.store, File: untouchable{t}}
		cred := &cmdutil.Credential{Token: cliSecret, Source: credentials.NameKeyring, Location: "the system keyring", Server: server, Team: "acme"}
		if tc.file {
			stores = &credentials.Stores{Keyring: untouchable{t}, File: tc.store}
			cred.Source, cred.Location = credentials.NameFile, "/cfg/credentials.json"
		}
		f := testFactory(&config.Config{Server: server, Team: "acme"}, stores)
		err := rejectedStored(ctx, f, cred, tc.ae)
		if err == nil || err.Error() != tc.want || cmdutil.ExitCode(err) != 4 {
			t.Errorf("%s: got %v (exit %d)\nwant %s", tc.name, err, cmdutil.ExitCode(err), tc.want)
		}
		if got, _ := tc.store.Get(ctx, server, "acme"); got != tc.left {
			t.Errorf("%s: the store holds %q, want %q", tc.name, got, tc.left)
		}
	}

	// An expired token is left alone: the server's problem as it is.
	expired := &client.APIError{Status: 401, Code: client.CodeTokenExpired, Challenge: refusedChallenge}
	f := testFactory(&config.Config{Server: server, Team: "acme"}, &credentials.Stores{Keyring: untouchable{t}, File: untouchable{t}})
	cred := &cmdutil.Credential{Token: cliSecret, Source: credentials.NameKeyring, Server: server, Team: "acme"}
	if err := rejectedStored(ctx, f, cred, expired); err != expired {
		t.Fatalf("expired: got %v", err)
	}
}

// loginMeanwhile is a store where a login stores token right after the
// first call that reads or removes the entry returns: the moment a
// read-compare-delete would lose it.
type loginMeanwhile struct {
	*credentials.Memory
	token string
	done  bool
}

func (s *loginMeanwhile) login(ctx context.Context, server, team string) {
	if !s.done {
		s.done = true
		_ = s.Memory.Set(ctx, server, team, s.token)
	}
}

func (s *loginMeanwhile) Get(ctx context.Context, server, team string) (string, error) {
	defer s.login(ctx, server, team)
	return s.Memory.Get(ctx, server, team)
}

func (s *loginMeanwhile) DeleteIf(ctx context.Context, server, team, token string) error {
	defer s.login(ctx, server, team)
	return s.Memory.DeleteIf(ctx, server, team, token)
}

// A refused MOVITERA_TOKEN is named, with the way out: logging in again
// does not help while it is set. Nothing is stored, so nothing is removed.
func TestRejectedEnv(t *testing.T) {
	const server = "http://127.0.0.1:8270"
	cred := &cmdutil.Credential{Token: cliSecret, Source: "environment", Location: "MOVITERA_TOKEN", Server: server}
	for _, tc := range []struct {
		name  string
		token string
		ae    *client.APIError
		want  string
	}{
		{"revoked", cliSecret, &client.APIError{Status: 401, Code: client.CodeTokenRevoked, Detail: `This access token was revoked. Sign in again with "movitera login" or create a new token.`, Challenge: refusedChallenge},
			`the token mvc_AbCdEfGh from MOVITERA_TOKEN was rejected by http://127.0.0.1:8270: This access token was revoked. Sign in again with "movitera login" or create a new token; while MOVITERA_TOKEN is set, commands use it and not a login: unset it, or set it to a valid token`},
		{"not a token", "garbage-secret-value", &client.APIError{Status: 401, Code: client.CodeUnauthenticated, Detail: "The access token is not a valid Movitera token.", Challenge: refusedChallenge},
			"the token (not a movitera token) from MOVITERA_TOKEN was rejected by http://127.0.0.1:8270: The access token is not a valid Movitera token; while MOVITERA_TOKEN is set, commands use it and not a login: unset it, or set it to a valid token"},
		{"no token arrived", cliSecret, &client.APIError{Status: 401, Code: client.CodeUnauthenticated, Detail: "This request has no access token.", Challenge: noTokenChallenge},
			"movitera sent the token mvc_AbCdEfGh from MOVITERA_TOKEN, but the server at http://127.0.0.1:8270 received no token: a proxy between here and it may be dropping the Authorization header"},
	} {
		cred.Token = tc.token
		err := rejectedEnv(cred, tc.ae)
		if err == nil || err.Error() != tc.want || cmdutil.ExitCode(err) != 4 {
			t.Errorf("%s: got %v (exit %d)\nwant %s", tc.name, err, cmdutil.ExitCode(err), tc.want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
