package server

import (
	"context"
	"sync"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

// usage coalesces the last-use times of tokens in memory. They are written
// once a minute (and at Close), so a busy token costs one write a minute,
// not one per request; answers show the pending time meanwhile.
type usage struct {
	mu      sync.Mutex
	pending map[string]time.Time
}

func newUsage() *usage { return &usage{pending: map[string]time.Time{}} }

func (u *usage) record(tokenID string, at time.Time) {
	u.mu.Lock()
	if prev, ok := u.pending[tokenID]; !ok || at.After(prev) {
		u.pending[tokenID] = at
	}
	u.mu.Unlock()
}

// overlay puts a pending last use into a token read from the database.
func (u *usage) overlay(t *movitera.Token) {
	u.mu.Lock()
	at, ok := u.pending[t.ID]
	u.mu.Unlock()
	if ok && (t.LastUsedAt == nil || at.After(*t.LastUsedAt)) {
		t.LastUsedAt = &at
	}
}

func (u *usage) take() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	p := u.pending
	u.pending = map[string]time.Time{}
	return p
}

// FlushUsage writes the pending last-use times now.
func (s *Server) FlushUsage(ctx context.Context) error {
	p := s.usage.take()
	if err := s.db.RecordUse(ctx, p); err != nil {
		for id, at := range p {
			s.usage.record(id, at)
		}
		return err
	}
	return nil
}
