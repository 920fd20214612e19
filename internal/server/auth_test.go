package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	good := f.dev.Token
	bad := []byte(good)
	bad[10] ^= 1 // checksum no longer matches
	unknown, _ := movitera.NewSecret(movitera.TypeSDK)

	wantProblem(t, f.do("GET", "/api/v1/user", "", nil), 401, "unauthenticated")
	r := f.do("GET", "/api/v1/user", "", nil, "Authorization", "Basic abc")
	wantProblem(t, r, 401, "unauthenticated")
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	wantProblem(t, f.do("GET", "/api/v1/user", string(bad), nil), 401, "unauthenticated")
	wantProblem(t, f.do("GET", "/api/v1/user", "ghp_notours", nil), 401, "unauthenticated")
	wantProblem(t, f.do("GET", "/api/v1/user", unknown, nil), 401, "unauthenticated")

	r = f.do("GET", "/api/v1/user", good, nil)
	wantStatus(t, r, 200)
	var u userResponse
	r.json(t, &u)
	if u.User.Email != DevEmail || len(u.Teams) != 2 || u.Teams[0] != (movitera.Team{Slug: "acme", Name: "Acme", Role: "manager"}) ||
		u.Teams[1].Role != "member" || u.Token.ID != f.dev.TokenID || u.Token.Team != "acme" || u.Token.LastUsedAt == nil {
		t.Fatalf("user: %s", r.body)
	}
	if strings.Contains(string(r.body), good) || strings.Contains(string(r.body), "password") {
		t.Fatal("secret in the user answer")
	}
}

func TestRevokedTokenFailsOnNextRequest(t *testing.T) {
	f := newFixture(t)
	_, secret := f.create(f.dev.Token, "acme", "ci", movitera.TypeSDK, 30)
	wantStatus(t, f.do("GET", "/api/v1/user", secret, nil), 200)
	wantStatus(t, f.form("/oauth/revoke", map[string]string{"token": secret}), 200)
	wantProblem(t, f.do("GET", "/api/v1/user", secret, nil), 401, "token_revoked")
}

func TestExpiredToken(t *testing.T) {
	f := newFixture(t)
	_, secret := f.create(f.dev.Token, "acme", "short", movitera.TypeSDK, 7)
	f.clock.Advance(7*24*time.Hour - time.Minute)
	wantStatus(t, f.do("GET", "/api/v1/user", secret, nil), 200)
	f.clock.Advance(2 * time.Minute)
	wantProblem(t, f.do("GET", "/api/v1/user", secret, nil), 401, "token_expired")
	// Revoked wins over expired.
	wantStatus(t, f.form("/oauth/revoke", map[string]string{"token": secret}), 200)
	wantProblem(t, f.do("GET", "/api/v1/user", secret, nil), 401, "token_revoked")
}

func TestTeamChecks(t *testing.T) {
	f := newFixture(t)
	other := f.addPerson("eve@example.com", "initech", "manager")
	// A token acts on its own team only, even where its user is a member.
	wantProblem(t, f.do("GET", "/api/v1/teams/globex/tokens", f.dev.Token, nil), 403, "team_forbidden")
	wantProblem(t, f.do("GET", "/api/v1/teams/initech/tokens", f.dev.Token, nil), 403, "team_forbidden")
	wantProblem(t, f.do("DELETE", "/api/v1/teams/initech/tokens/tok_0000000000000000", f.dev.Token, nil), 403, "team_forbidden")
	wantProblem(t, f.do("POST", "/api/v1/teams/initech/tokens/revoke", f.dev.Token, map[string]any{"ids": []string{"x"}}), 403, "team_forbidden")
	wantProblem(t, f.do("POST", "/api/v1/teams/initech/tokens", f.dev.Token, map[string]any{"name": "x", "client_type": "sdk", "expires_in_days": 7}), 403, "team_forbidden")
	wantProblem(t, f.do("GET", "/api/v1/teams/nope/tokens", f.dev.Token, nil), 404, "team_not_found")

	// Another team's token id is not found in this team, and stays active.
	var eve userResponse
	f.do("GET", "/api/v1/user", other.token, nil).json(t, &eve)
	wantProblem(t, f.do("DELETE", "/api/v1/teams/acme/tokens/"+eve.Token.ID, f.dev.Token, nil), 404, "token_not_found")
	wantStatus(t, f.do("GET", "/api/v1/user", other.token, nil), 200)

	// A user taken out of the team loses the team's tokens at once.
	team, _ := f.srv.db.TeamBySlug(context.Background(), "initech")
	if err := f.srv.db.RemoveMembership(context.Background(), other.user.ID, team.ID); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, f.do("GET", "/api/v1/user", other.token, nil), 403, "team_forbidden")
}

func TestNotFoundAndMethods(t *testing.T) {
	f := newFixture(t)
	wantProblem(t, f.do("GET", "/api/v1/nothing", f.dev.Token, nil), 404, "not_found")
	r := f.do("PUT", "/api/v1/user", f.dev.Token, nil)
	wantProblem(t, r, 405, "method_not_allowed")
	if r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow = %q", r.Header.Get("Allow"))
	}
	wantProblem(t, f.do("GET", "/oauth/token", "", nil), 405, "method_not_allowed")
	r = f.do("GET", "/nothing", "", nil)
	if r.StatusCode != 404 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page 404: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, r := range []response{f.do("GET", "/device", "", nil), f.do("GET", "/api/v1/user", f.dev.Token, nil)} {
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'unsafe-inline'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("headers: %v", h)
		}
	}
}

func TestLastUseIsCoalesced(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		wantStatus(t, f.do("GET", "/api/v1/user", f.dev.Token, nil), 200)
	}
	row, err := f.srv.db.TokenByHash(ctx, movitera.HashSecret(f.dev.Token))
	if err != nil {
		t.Fatal(err)
	}
	if row.LastUsedAt != nil {
		t.Fatalf("last use written at once: %v", row.LastUsedAt)
	}
	// The API shows it meanwhile.
	var u userResponse
	f.do("GET", "/api/v1/user", f.dev.Token, nil).json(t, &u)
	if u.Token.LastUsedAt == nil || !u.Token.LastUsedAt.Equal(epoch) {
		t.Fatalf("API last use %v", u.Token.LastUsedAt)
	}
	if err := f.srv.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	row, _ = f.srv.db.TokenByHash(ctx, movitera.HashSecret(f.dev.Token))
	if row.LastUsedAt == nil || !row.LastUsedAt.Equal(epoch) {
		t.Fatalf("flushed last use %v", row.LastUsedAt)
	}
	// Close flushes too.
	f.clock.Advance(time.Hour)
	wantStatus(t, f.do("GET", "/api/v1/user", f.dev.Token, nil), 200)
	f.restart()
	row, _ = f.srv.db.TokenByHash(ctx, movitera.HashSecret(f.dev.Token))
	if row.LastUsedAt == nil || !row.LastUsedAt.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("last use after restart %v", row.LastUsedAt)
	}
}

// Every 401 challenges for a bearer token (RFC 6750 §3): the realm alone
// when no token was sent, error="invalid_token" when one was refused. Other
// refusals carry no challenge.
func TestUnauthorizedChallenges(t *testing.T) {
	f := newFixture(t)
	bad := []byte(f.dev.Token)
	bad[10] ^= 1
	unknown, _ := movitera.NewSecret(movitera.TypeSDK)
	_, revoked := f.create(f.dev.Token, "acme", "revoked", movitera.TypeSDK, 30)
	wantStatus(t, f.form("/oauth/revoke", map[string]string{"token": revoked}), 200)
	_, expired := f.create(f.dev.Token, "acme", "expired", movitera.TypeSDK, 7)

	const realm = `Bearer realm="movitera"`
	const invalid = `Bearer realm="movitera", error="invalid_token"`
	for _, c := range []struct {
		name, token, authorization, code, challenge string
	}{
		{"no header", "", "", "unauthenticated", realm},
		{"basic", "", "Basic abc", "unauthenticated", realm},
		{"empty bearer", "", "Bearer ", "unauthenticated", realm},
		{"bad checksum", string(bad), "", "unauthenticated", invalid},
		{"not ours", "ghp_notours", "", "unauthenticated", invalid},
		{"unknown", unknown, "", "unauthenticated", invalid},
		{"revoked", revoked, "", "token_revoked", invalid},
	} {
		var hdr []string
		if c.authorization != "" {
			hdr = []string{"Authorization", c.authorization}
		}
		r := f.do("GET", "/api/v1/user", c.token, nil, hdr...)
		wantProblem(t, r, 401, c.code)
		if got := r.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != c.challenge {
			t.Errorf("%s: WWW-Authenticate %q; want %q", c.name, got, c.challenge)
		}
	}
	f.clock.Advance(8 * 24 * time.Hour)
	r := f.do("GET", "/api/v1/teams/acme/tokens", expired, nil)
	wantProblem(t, r, 401, "token_expired")
	if got := r.Header.Get("WWW-Authenticate"); got != invalid {
		t.Errorf("expired: WWW-Authenticate %q; want %q", got, invalid)
	}
	// A known token refused for its team is a 403, without a challenge.
	r = f.do("GET", "/api/v1/teams/globex/tokens", f.dev.Token, nil)
	wantProblem(t, r, 403, "team_forbidden")
	if got := r.Header.Get("WWW-Authenticate"); got != "" {
		t.Errorf("403 with WWW-Authenticate %q", got)
	}
}

// Every 405 lists, in one Allow field, the methods its path answers.
func TestMethodNotAllowedLists(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ method, path, allow string }{
		{"PUT", "/api/v1/user", "GET, HEAD"},
		{"DELETE", "/api/v1/second-factor", "POST"},
		{"PUT", "/api/v1/teams/acme/tokens", "GET, HEAD, POST"},
		{"PATCH", "/api/v1/teams/acme/tokens/tok_0000000000000000", "DELETE"},
		{"GET", "/api/v1/teams/acme/tokens/revoke", "POST, DELETE"},
		{"GET", "/oauth/token", "POST"},
		{"HEAD", "/oauth/device/code", "POST"},
		{"DELETE", "/device", "GET, HEAD"},
		{"GET", "/device/login", "POST"},
	} {
		r := f.do(c.method, c.path, f.dev.Token, nil)
		if r.StatusCode != 405 {
			t.Errorf("%s %s: %d; want 405", c.method, c.path, r.StatusCode)
		}
		if got := r.Header.Values("Allow"); len(got) != 1 || got[0] != c.allow {
			t.Errorf("%s %s: Allow %q; want %q", c.method, c.path, got, c.allow)
		}
	}
}
