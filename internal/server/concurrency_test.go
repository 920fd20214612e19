package server

import (
	"fmt"
	"sync"
	"testing"
)

// TestParallelCreatesAndRevokes runs creates, idempotent retries, single and
// bulk revokes and reads at once (run it with -race): every create is
// stored, every revoke sticks, and a retried key makes one token.
func TestParallelCreatesAndRevokes(t *testing.T) {
	f := newFixture(t)
	f.confirm(f.dev.Token)
	const n = 40
	var mu sync.Mutex
	created := map[string]string{} // id -> secret
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := map[string]any{"name": fmt.Sprintf("parallel %d", i), "client_type": "sdk", "expires_in_days": 30}
			key := fmt.Sprintf("key-%d", i%(n/2)) // every key is used by two requests with different bodies
			r := f.do("POST", "/api/v1/teams/acme/tokens", f.dev.Token, body, "Idempotency-Key", key)
			switch r.StatusCode {
			case 201:
				var cr createResponse
				r.json(t, &cr)
				mu.Lock()
				created[cr.Token.ID] = cr.Secret
				mu.Unlock()
			case 422:
			default:
				errs <- fmt.Errorf("create %d: %d %s", i, r.StatusCode, r.body)
			}
			if r := f.do("GET", "/api/v1/teams/acme/tokens?limit=5", f.dev.Token, nil); r.StatusCode != 200 {
				errs <- fmt.Errorf("list: %d %s", r.StatusCode, r.body)
			}
		}(i)
	}
	wg.Wait()
	if len(created) != n/2 {
		t.Fatalf("%d tokens created; want %d (one per key)", len(created), n/2)
	}
	ids := make([]string, 0, len(created))
	for id := range created {
		ids = append(ids, id)
	}
	// Revoke every token twice at once: singly and in bulk.
	for i, id := range ids {
		wg.Add(2)
		go func(id string) {
			defer wg.Done()
			if r := f.do("DELETE", "/api/v1/teams/acme/tokens/"+id, f.dev.Token, nil); r.StatusCode != 200 {
				errs <- fmt.Errorf("revoke %s: %d %s", id, r.StatusCode, r.body)
			}
		}(id)
		go func(batch []string) {
			defer wg.Done()
			if r := f.do("POST", "/api/v1/teams/acme/tokens/revoke", f.dev.Token, map[string]any{"ids": batch}); r.StatusCode != 200 {
				errs <- fmt.Errorf("bulk: %d %s", r.StatusCode, r.body)
			}
		}(ids[i : i+1])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total, revoked := countTokens(t, f)
	if total != n/2+1 || revoked != n/2 {
		t.Fatalf("%d tokens, %d revoked; want %d and %d", total, revoked, n/2+1, n/2)
	}
	for _, secret := range created {
		wantProblem(t, f.do("GET", "/api/v1/user", secret, nil), 401, "token_revoked")
	}
	wantStatus(t, f.do("GET", "/api/v1/user", f.dev.Token, nil), 200)
}
