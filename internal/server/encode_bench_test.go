package server

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

// BenchmarkEncodeTokenPage is the JSON encoding alone of a full page of 500
// token objects, as GET /api/v1/teams/{team}/tokens writes it.
func BenchmarkEncodeTokenPage(b *testing.B) {
	now := epoch
	exp := now.Add(90 * 24 * time.Hour)
	page := tokenPage{Tokens: make([]movitera.Token, 500)}
	for i := range page.Tokens {
		page.Tokens[i] = movitera.Token{
			ID: fmt.Sprintf("tok_%016x", i), Name: fmt.Sprintf("meu macbook %d · cli", i), ClientType: movitera.TypeCLI,
			Prefix: "mvc_AbCdEfGh", Team: "acme", CreatedAt: now, LastUsedAt: &now, ExpiresAt: &exp, CreatedBy: DevEmail,
		}
	}
	next := "djE6MTc2NDc2MzIwMDAwMDAwMDAwMDp0b2tfMDAwMDAwMDAwMDAwMDAwMA"
	page.NextCursor = &next
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := json.NewEncoder(io.Discard).Encode(page); err != nil {
			b.Fatal(err)
		}
	}
}
