package movitera

import (
	"testing"
	"time"
)

// BenchmarkNewSecretAndHash is what a create costs in the domain: a fresh
// secret (randomness, base62, checksum), its SHA-256 and display prefix.
func BenchmarkNewSecretAndHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s, err := NewSecret(TypeSDK)
		if err != nil {
			b.Fatal(err)
		}
		if HashSecret(s) == "" || DisplayPrefix(s) == "" {
			b.Fatal("empty")
		}
	}
}

// BenchmarkVerifySecret is the server's offline check of a presented
// secret before any look-up: shape and checksum, then the hash it looks up.
func BenchmarkVerifySecret(b *testing.B) {
	s, err := NewSecret(TypeCLI)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSecret(s); err != nil {
			b.Fatal(err)
		}
		_ = HashSecret(s)
	}
}

// BenchmarkDeriveState derives the state and both labels of a list row, for
// a mix of active, expiring, expired, revoked and never-expiring tokens.
func BenchmarkDeriveState(b *testing.B) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	toks := []Token{
		{ExpiresAt: at(90 * 24 * time.Hour), LastUsedAt: at(-5 * time.Minute)},
		{ExpiresAt: at(3 * 24 * time.Hour)},
		{ExpiresAt: at(-time.Hour), LastUsedAt: at(-48 * time.Hour)},
		{ExpiresAt: at(30 * 24 * time.Hour), RevokedAt: at(-time.Hour)},
		{},
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, t := range toks {
			_ = t.StateAt(now)
			_ = t.ExpiryLabel(now)
			_ = t.LastUseLabel(now)
			_ = t.ExpiringSoon(now)
		}
	}
}
