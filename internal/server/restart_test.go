package server

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

func readDevFile(t *testing.T, dir string) (DevCredentials, map[string]any) {
	t.Helper()
	path := filepath.Join(dir, devCredentialsFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v; want 0600", path, st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	var c DevCredentials
	var raw map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &raw)
	return c, raw
}

func TestDevSetup(t *testing.T) {
	f := newFixture(t)
	c, raw := readDevFile(t, f.dir)
	for _, k := range []string{"server_url", "email", "password", "totp_secret", "token", "teams"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("dev-credentials.json lacks %q", k)
		}
	}
	if c.ServerURL != f.ts.URL || c.Token != f.dev.Token || c.Password != f.dev.Password || c.TOTPSecret != f.dev.TOTPSecret ||
		c.Email != DevEmail || c.TokenID != f.dev.TokenID {
		t.Fatalf("file %+v; SetupDev returned %+v", c, f.dev)
	}
	if len(c.Teams) != 2 || c.Teams[0] != (DevTeam{"acme", "manager"}) || c.Teams[1] != (DevTeam{"globex", "member"}) {
		t.Fatalf("teams %+v", c.Teams)
	}
	var u userResponse
	f.do("GET", "/api/v1/user", c.Token, nil).json(t, &u)
	if u.Token.Name != "dev token" || u.Token.ClientType != movitera.TypeOther || u.Token.Team != "acme" ||
		!u.Token.ExpiresAt.Equal(epoch.Add(90*24*time.Hour)) {
		t.Fatalf("dev token %+v", u.Token)
	}
	for _, name := range []string{"server.key", "movitera.db"} {
		if st, err := os.Stat(filepath.Join(f.dir, name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, st.Mode(), err)
		}
	}
}

func TestRestartKeepsState(t *testing.T) {
	f := newFixture(t)
	first := *f.dev
	tok, secret := f.create(f.dev.Token, "acme", "survivor", movitera.TypeSDK, 30)
	gone, _ := f.create(f.dev.Token, "acme", "revoked before restart", movitera.TypeCLI, 30)
	wantStatus(t, f.do("DELETE", "/api/v1/teams/acme/tokens/"+gone.ID, f.dev.Token, nil), 200)
	d := f.startDevice(t, map[string]string{"client_id": "movitera-cli"})
	f.restart() // a new URL, same data directory

	if f.dev.Password != first.Password || f.dev.TOTPSecret != first.TOTPSecret || f.dev.Token != first.Token || f.dev.ServerURL == first.ServerURL {
		t.Fatalf("dev credentials changed across a restart: %+v then %+v", first, f.dev)
	}
	if c, _ := readDevFile(t, f.dir); c.ServerURL != f.ts.URL {
		t.Fatalf("server_url %q not updated to %q", c.ServerURL, f.ts.URL)
	}
	wantStatus(t, f.do("GET", "/api/v1/user", secret, nil), 200)
	var p tokenPage
	f.do("GET", "/api/v1/teams/acme/tokens?include_revoked=true", f.dev.Token, nil).json(t, &p)
	if len(p.Tokens) != 3 || p.Tokens[1].ID != tok.ID || p.Tokens[0].RevokedAt == nil {
		t.Fatalf("tokens after restart %+v", p.Tokens)
	}
	// A device code issued before the restart is still pending, and a
	// second-factor step used before it is still spent.
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "authorization_pending")
	if v, _ := f.srv.db.SchemaVersion(context.Background()); v != 1 {
		t.Fatalf("schema version %d", v)
	}
}

func TestDevSetupRecovers(t *testing.T) {
	f := newFixture(t)
	first := *f.dev
	// The file is lost: the password, TOTP secret and token are reset.
	os.Remove(filepath.Join(f.dir, devCredentialsFile))
	f.restart()
	if f.dev.Password == first.Password || f.dev.TOTPSecret == first.TOTPSecret || f.dev.Token == first.Token {
		t.Fatal("lost credentials were not reset")
	}
	wantStatus(t, f.do("GET", "/api/v1/user", f.dev.Token, nil), 200)
	b := newBrowser(t, f)
	b.signIn("").want(t, 200, "Enter the code")
	// The dev token was revoked: only a new token is made.
	second := *f.dev
	wantStatus(t, f.do("DELETE", "/api/v1/teams/acme/tokens/"+f.dev.TokenID, f.dev.Token, nil), 200)
	f.restart()
	if f.dev.Token == second.Token || f.dev.Password != second.Password || f.dev.TOTPSecret != second.TOTPSecret {
		t.Fatal("revoked dev token not replaced, or password changed")
	}
	wantStatus(t, f.do("GET", "/api/v1/user", f.dev.Token, nil), 200)
	// A corrupt file is replaced too.
	os.WriteFile(filepath.Join(f.dir, devCredentialsFile), []byte("{"), 0o600)
	f.restart()
	wantStatus(t, f.do("GET", "/api/v1/user", f.dev.Token, nil), 200)
	var u userResponse
	f.do("GET", "/api/v1/user", f.dev.Token, nil).json(t, &u)
	if len(u.Teams) != 2 {
		t.Fatalf("teams after resets: %+v", u.Teams)
	}
}

func TestServerKey(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "server.key"), []byte("short"), 0o600)
	if _, err := Open(context.Background(), Config{DataDir: dir}); err == nil {
		t.Fatal("opened with a broken server key")
	}
}
