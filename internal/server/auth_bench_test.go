package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

// benchSeed stores n more tokens of the dev user in team acme, straight
// through the store in one transaction (hashes of fresh secrets, as a create
// would store them).
func benchSeed(b *testing.B, f *fixture, n int) {
	b.Helper()
	ctx := context.Background()
	team, err := f.srv.db.TeamBySlug(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	user, err := f.srv.db.UserByEmail(ctx, DevEmail)
	if err != nil {
		b.Fatal(err)
	}
	now := f.clock.Now()
	err = f.srv.db.InTx(ctx, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			secret, err := movitera.NewSecret(movitera.TypeSDK)
			if err != nil {
				return err
			}
			err = tx.InsertToken(ctx, store.NewToken{
				ID: newID("tok_"), TeamID: team.ID, UserID: user.ID, Name: "seed " + strconv.Itoa(i),
				ClientType: movitera.TypeSDK, Prefix: movitera.DisplayPrefix(secret),
				SecretHash: movitera.HashSecret(secret), CreatedAt: now.Add(-time.Duration(i) * time.Second),
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTokenByHash is the database side of checking a token: the
// indexed look-up by the secret's hash. Its cost must not grow with the
// number of tokens stored.
func BenchmarkTokenByHash(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			f := newFixture(b)
			benchSeed(b, f, n-1)
			hash := movitera.HashSecret(f.dev.Token)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := f.srv.db.TokenByHash(ctx, hash); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetUser is an authenticated GET /api/v1/user through the whole
// handler (in process, no socket): the token check plus the answer. It also
// reports how many last_used_at rows the next flush writes: one for the
// token however many requests it made (writes are coalesced).
func BenchmarkGetUser(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			f := newFixture(b)
			benchSeed(b, f, n-1)
			h := f.srv.Handler()
			req := httptest.NewRequest("GET", "/api/v1/user", nil)
			req.Header.Set("Authorization", "Bearer "+f.dev.Token)
			f.srv.usage.take()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(len(f.srv.usage.take())), "last_used_rows_per_flush")
		})
	}
}

// BenchmarkListTokensPage is GET /api/v1/teams/acme/tokens?limit=500 (the
// page size the CLI asks for) through the whole handler: query, token
// objects and JSON encoding of one page.
func BenchmarkListTokensPage(b *testing.B) {
	f := newFixture(b)
	benchSeed(b, f, 999)
	h := f.srv.Handler()
	req := httptest.NewRequest("GET", "/api/v1/teams/acme/tokens?include_revoked=true&limit=500", nil)
	req.Header.Set("Authorization", "Bearer "+f.dev.Token)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
