package tokenview

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

// BenchmarkWriteJSON10000 is the client's --json output of 10,000 tokens:
// the JSON view of each (state derived) streamed through ArrayWriter, as
// tokens list does page by page.
func BenchmarkWriteJSON10000(b *testing.B) {
	toks := make([]movitera.Token, 10000)
	for i := range toks {
		toks[i] = movitera.Token{ID: fmt.Sprintf("tok_%016x", i), Name: fmt.Sprintf("runner %d · sdk", i), ClientType: movitera.TypeSDK,
			Prefix: "mvs_AbCdEfGh", Team: "acme", CreatedAt: now, ExpiresAt: at(time.Duration(i%365) * day), CreatedBy: "dev@movitera.local"}
	}
	b.ReportAllocs()
	for b.Loop() {
		a := NewArrayWriter(io.Discard)
		for _, t := range toks {
			if err := a.Add(NewJSON(t, now)); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
