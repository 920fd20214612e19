package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrationsAndPragmas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	s := open(t, path)
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != 1 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	var mode string
	var fk, busy int
	s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	s.w.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
	s.r.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy)
	if mode != "wal" || fk != 1 || busy < 1000 {
		t.Fatalf("journal_mode %s, foreign_keys %d, busy_timeout %d", mode, fk, busy)
	}
	// Reads cannot write.
	if _, err := s.r.ExecContext(ctx, "DELETE FROM teams"); err == nil {
		t.Fatal("read pool wrote")
	}
	s.Close()
	// Opening again applies nothing twice; a newer schema is refused.
	s2 := open(t, path)
	if v, _ := s2.SchemaVersion(ctx); v != 1 {
		t.Fatalf("version after reopen %d", v)
	}
	s2.w.ExecContext(ctx, "PRAGMA user_version = 99")
	s2.Close()
	if _, err := Open(ctx, path); err == nil {
		t.Fatal("opened a schema from the future")
	}
}

func seed(t *testing.T, s *Store) (userID string, teamID int64) {
	t.Helper()
	ctx := context.Background()
	userID, err := s.UpsertUser(ctx, User{User: movitera.User{ID: "usr_1", Email: "A@example.com", Name: "A"}, PasswordHash: "x", TOTPSealed: []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	if teamID, err = s.UpsertTeam(ctx, "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMembership(ctx, userID, teamID, movitera.RoleManager); err != nil {
		t.Fatal(err)
	}
	return userID, teamID
}

func TestTokensAndPaging(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "t.db"))
	user, team := seed(t, s)
	if u, err := s.UserByEmail(ctx, "a@EXAMPLE.com"); err != nil || u.ID != user {
		t.Fatalf("email look-up is not case-insensitive: %v", err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		err := s.InsertToken(ctx, NewToken{ID: fmt.Sprintf("tok_%016x", i), TeamID: team, UserID: user, Name: "t",
			ClientType: movitera.TypeSDK, Prefix: "p", SecretHash: fmt.Sprint("h", i), CreatedAt: at.Add(time.Duration(i/4) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := s.InsertToken(ctx, NewToken{ID: "tok_x", TeamID: team, UserID: user, Name: "t", ClientType: movitera.TypeSDK, SecretHash: "h1", CreatedAt: at})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate hash: %v", err)
	}
	var got []string
	var cur *Cursor
	for {
		page, err := s.ListTokens(ctx, ListQuery{TeamID: team, Limit: 3, After: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			got = append(got, p.ID)
		}
		if len(page) < 3 {
			break
		}
		c := page[len(page)-1].CursorAfter()
		cur = &c
	}
	want := []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}
	if len(got) != 10 {
		t.Fatalf("paged %v", got)
	}
	for i, id := range got {
		if id != fmt.Sprintf("tok_%016x", want[i]) {
			t.Fatalf("order %v", got)
		}
	}
	tok, changed, err := s.RevokeToken(ctx, team, "tok_0000000000000003", at)
	if err != nil || !changed || tok.RevokedAt == nil {
		t.Fatalf("revoke: %v %v", changed, err)
	}
	_, changed, _ = s.RevokeToken(ctx, team, "tok_0000000000000003", at.Add(time.Hour))
	if changed {
		t.Fatal("revoked twice")
	}
	if _, _, err := s.RevokeToken(ctx, team+1, "tok_0000000000000004", at); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke in another team: %v", err)
	}
	if n, r, _ := s.CountTokens(ctx); n != 10 || r != 1 {
		t.Fatalf("count %d %d", n, r)
	}
}

func TestInTxRollsBack(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "x.db"))
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.UpsertTeam(ctx, "half", "Half"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := s.TeamBySlug(ctx, "half"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half-written team survived: %v", err)
	}
}

func TestTOTPSteps(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "o.db"))
	user, _ := seed(t, s)
	now := time.Now()
	if err := s.UseTOTPStep(ctx, user, 100, now, 99); err != nil {
		t.Fatal(err)
	}
	if err := s.UseTOTPStep(ctx, user, 100, now, 99); !errors.Is(err, ErrConflict) {
		t.Fatalf("replay: %v", err)
	}
	if err := s.UseTOTPStep(ctx, user, 101, now, 99); err != nil {
		t.Fatal(err)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	userID, _ := seed(t, s)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	if err := s.InsertSession(ctx, Session{IDHash: "h", CSRF: "c", UserID: userID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountSessions(ctx); n != 1 || err != nil {
		t.Fatalf("%d sessions, %v", n, err)
	}
	got, err := s.SessionByHash(ctx, "h", now)
	if err != nil || got.UserID != userID || got.CSRF != "c" {
		t.Fatalf("%+v, %v", got, err)
	}
	if _, err := s.SessionByHash(ctx, "h", now.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if err := s.DeleteSession(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountSessions(ctx); n != 0 {
		t.Fatalf("%d sessions after delete", n)
	}
}
