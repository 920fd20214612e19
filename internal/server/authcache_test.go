package server

import (
	"context"
	"testing"

	"github.com/movitera/movitera/internal/movitera"
)

// The token check is cached; every write the server commits must show on
// the very next request.
func TestAuthCacheSeesWrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var u userResponse
	f.do("GET", "/api/v1/user", f.dev.Token, nil).json(t, &u)
	if u.Teams[0].Role != movitera.RoleManager || u.Teams[0].Name != "Acme" {
		t.Fatalf("teams %+v", u.Teams)
	}
	// A role change: a plain member may not create tokens that never expire.
	acme, _ := f.srv.db.TeamBySlug(ctx, "acme")
	user, _ := f.srv.db.UserByEmail(ctx, DevEmail)
	if err := f.srv.db.SetMembership(ctx, user.ID, acme.ID, movitera.RoleMember); err != nil {
		t.Fatal(err)
	}
	f.confirm(f.dev.Token)
	wantProblem(t, f.do("POST", "/api/v1/teams/acme/tokens", f.dev.Token,
		map[string]any{"name": "forever", "client_type": "sdk", "expires_in_days": nil}), 403, "manager_required")
	// A renamed team shows in the next answer.
	if _, err := f.srv.db.UpsertTeam(ctx, "acme", "Acme Corp"); err != nil {
		t.Fatal(err)
	}
	f.do("GET", "/api/v1/user", f.dev.Token, nil).json(t, &u)
	if u.Teams[0].Name != "Acme Corp" || u.Teams[0].Role != movitera.RoleMember {
		t.Fatalf("teams after the writes %+v", u.Teams)
	}
}
