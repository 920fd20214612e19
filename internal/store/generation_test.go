package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestGenerationMovesOnEveryCommittedWrite(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g0 := s.Generation()
	if _, err := s.TeamBySlug(ctx, "acme"); err != ErrNotFound {
		t.Fatalf("look-up: %v", err)
	}
	if s.Generation() != g0 {
		t.Fatal("a read moved the generation")
	}
	if _, err := s.UpsertTeam(ctx, "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	g1 := s.Generation()
	if g1 == g0 {
		t.Fatal("a write outside a transaction left the generation")
	}
	err = s.InTx(ctx, func(tx *Tx) error {
		_, err := tx.UpsertTeam(ctx, "globex", "Globex")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Generation() == g1 {
		t.Fatal("a committed transaction left the generation")
	}
}
