package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

// seedTokens stores n tokens of acme directly, alternating sdk and cli, all
// created at the same instant every third one (ties are ordered by id).
func seedTokens(t testing.TB, f *fixture, n int) {
	t.Helper()
	ctx := context.Background()
	team, _ := f.srv.db.TeamBySlug(ctx, "acme")
	user, _ := f.srv.db.UserByEmail(ctx, DevEmail)
	err := f.srv.db.InTx(ctx, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			typ := movitera.TypeSDK
			if i%2 == 1 {
				typ = movitera.TypeCLI
			}
			at := f.clock.Now().Add(time.Duration(i/3) * time.Second)
			if _, _, err := f.srv.insertToken(ctx, tx, team.ID, user.ID, fmt.Sprintf("seed %d", i), typ, 30, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func listAll(t *testing.T, f *fixture, query string, limit int) []movitera.Token {
	t.Helper()
	var all []movitera.Token
	cursor := ""
	for pages := 0; ; pages++ {
		q := fmt.Sprintf("?limit=%d%s", limit, query)
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		r := f.do("GET", "/api/v1/teams/acme/tokens"+q, f.dev.Token, nil)
		wantStatus(t, r, 200)
		var p tokenPage
		r.json(t, &p)
		if len(p.Tokens) > limit {
			t.Fatalf("page of %d > limit %d", len(p.Tokens), limit)
		}
		all = append(all, p.Tokens...)
		if p.NextCursor == nil {
			return all
		}
		cursor = *p.NextCursor
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
	}
}

func TestListTokens(t *testing.T) {
	f := newFixture(t)
	seedTokens(t, f, 25)
	all := listAll(t, f, "", 7)
	if len(all) != 26 {
		t.Fatalf("listed %d tokens; want 26", len(all))
	}
	seen := map[string]bool{}
	for i, tok := range all {
		if seen[tok.ID] {
			t.Fatalf("token %s listed twice", tok.ID)
		}
		seen[tok.ID] = true
		if i > 0 {
			prev := all[i-1]
			if tok.CreatedAt.After(prev.CreatedAt) || (tok.CreatedAt.Equal(prev.CreatedAt) && tok.ID > prev.ID) {
				t.Fatalf("not newest first at %d: %v %s after %v %s", i, tok.CreatedAt, tok.ID, prev.CreatedAt, prev.ID)
			}
		}
	}
	if one := listAll(t, f, "", 500); len(one) != 26 || one[0].ID != all[0].ID {
		t.Fatal("one big page differs")
	}
	sdk := listAll(t, f, "&type=sdk", 4)
	if len(sdk) != 13 {
		t.Fatalf("%d sdk tokens; want 13", len(sdk))
	}
	for _, tok := range sdk {
		if tok.ClientType != movitera.TypeSDK {
			t.Fatalf("type filter let %s through", tok.ClientType)
		}
	}
	// Revoked tokens only on request; expired ones always.
	wantStatus(t, f.do("DELETE", "/api/v1/teams/acme/tokens/"+all[3].ID, f.dev.Token, nil), 200)
	f.clock.Advance(31 * 24 * time.Hour) // every seeded token has expired
	f.create(f.dev.Token, "acme", "live", movitera.TypeOther, 30)
	if got := listAll(t, f, "", 100); len(got) != 26 {
		t.Fatalf("default list has %d; want 26 (revoked left out, expired kept)", len(got))
	}
	if got := listAll(t, f, "&include_revoked=true", 100); len(got) != 27 {
		t.Fatalf("include_revoked lists %d; want 27", len(got))
	}
	for _, q := range []string{"limit=0", "limit=501", "limit=x", "type=robot", "include_revoked=yes", "cursor=zzz", "cursor=" + encodeCursor(store.Cursor{CreatedAt: 1, ID: "x"})} {
		wantProblem(t, f.do("GET", "/api/v1/teams/acme/tokens?"+q, f.dev.Token, nil), 400, "invalid_request")
	}
}

func TestRevokeOne(t *testing.T) {
	f := newFixture(t)
	tok, secret := f.create(f.dev.Token, "acme", "ci", movitera.TypeSDK, 30)
	r := f.do("DELETE", "/api/v1/teams/acme/tokens/"+tok.ID, f.dev.Token, nil)
	wantStatus(t, r, 200)
	var rr revokeResponse
	r.json(t, &rr)
	if rr.Token.RevokedAt == nil || !rr.Token.RevokedAt.Equal(f.clock.Now()) {
		t.Fatalf("revoked %s", r.body)
	}
	wantProblem(t, f.do("GET", "/api/v1/user", secret, nil), 401, "token_revoked")
	// Again: 200, revoked_at unchanged.
	f.clock.Advance(time.Hour)
	var again revokeResponse
	f.do("DELETE", "/api/v1/teams/acme/tokens/"+tok.ID, f.dev.Token, nil).json(t, &again)
	if again.Token.RevokedAt == nil || !again.Token.RevokedAt.Equal(*rr.Token.RevokedAt) {
		t.Fatalf("second revoke changed revoked_at: %v", again.Token.RevokedAt)
	}
	wantProblem(t, f.do("DELETE", "/api/v1/teams/acme/tokens/tok_0123456789abcdef", f.dev.Token, nil), 404, "token_not_found")
	// A token may revoke itself (logout); it fails right after.
	wantStatus(t, f.do("DELETE", "/api/v1/teams/acme/tokens/"+f.dev.TokenID, f.dev.Token, nil), 200)
	wantProblem(t, f.do("GET", "/api/v1/user", f.dev.Token, nil), 401, "token_revoked")
}

func TestBulkRevoke(t *testing.T) {
	f := newFixture(t)
	a, _ := f.create(f.dev.Token, "acme", "a", movitera.TypeSDK, 30)
	b, _ := f.create(f.dev.Token, "acme", "b", movitera.TypeCLI, 30)
	eve := f.addPerson("eve@example.com", "initech", "manager")
	var eveUser userResponse
	f.do("GET", "/api/v1/user", eve.token, nil).json(t, &eveUser)
	wantStatus(t, f.do("DELETE", "/api/v1/teams/acme/tokens/"+b.ID, f.dev.Token, nil), 200)

	ids := []string{a.ID, b.ID, "tok_ffffffffffffffff", eveUser.Token.ID, a.ID}
	r := f.do("POST", "/api/v1/teams/acme/tokens/revoke", f.dev.Token, map[string]any{"ids": ids})
	wantStatus(t, r, 200)
	var br bulkRevokeResponse
	r.json(t, &br)
	want := []string{"revoked", "already_revoked", "not_found", "not_found", "already_revoked"}
	if len(br.Results) != len(want) {
		t.Fatalf("results %s", r.body)
	}
	for i, res := range br.Results {
		if res.ID != ids[i] || res.Status != want[i] || (res.Token == nil) != (want[i] == "not_found") {
			t.Fatalf("result %d: %+v; want %s %s", i, res, ids[i], want[i])
		}
	}
	wantStatus(t, f.do("GET", "/api/v1/user", eve.token, nil), 200) // another team's token is untouched

	wantProblem(t, f.do("POST", "/api/v1/teams/acme/tokens/revoke", f.dev.Token, `{"ids":[]}`), 400, "invalid_request")
	wantProblem(t, f.do("POST", "/api/v1/teams/acme/tokens/revoke", f.dev.Token, `{"ids":"tok_x"}`), 400, "invalid_request")
	wantProblem(t, f.do("POST", "/api/v1/teams/acme/tokens/revoke", f.dev.Token, `{"id":["tok_x"]}`), 400, "invalid_request")
	many := make([]string, 501)
	for i := range many {
		many[i] = "tok_x"
	}
	wantProblem(t, f.do("POST", "/api/v1/teams/acme/tokens/revoke", f.dev.Token, map[string]any{"ids": many}), 400, "invalid_request")
}

func TestRevokeBySecret(t *testing.T) {
	f := newFixture(t)
	_, secret := f.create(f.dev.Token, "acme", "leaked", movitera.TypeSDK, 30)
	unknown, _ := movitera.NewSecret(movitera.TypeSDK)
	for _, s := range []string{unknown, "not a token", secret, secret} {
		r := f.form("/oauth/revoke", map[string]string{"token": s})
		wantStatus(t, r, 200)
		if strings.TrimSpace(string(r.body)) != "{}" {
			t.Fatalf("body %s", r.body)
		}
	}
	if _, revoked := countTokens(t, f); revoked != 1 {
		t.Fatalf("%d revoked; want 1", revoked)
	}
	wantOAuth(t, f.form("/oauth/revoke", map[string]string{}), 400, "invalid_request")
	// Rate limited per address.
	var last response
	for i := 0; i < requestsPerIP.burst+1; i++ {
		last = f.form("/oauth/revoke", map[string]string{"token": unknown})
	}
	wantOAuth(t, last, 429, "rate_limited")
	if last.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}
