package credentials

import (
	"context"
	"sync"
)

// Memory is a Store in memory, for tests.
type Memory struct {
	mu sync.Mutex
	m  map[[2]string]string
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{m: map[[2]string]string{}} }

// Get implements Store.
func (s *Memory) Get(_ context.Context, server, team string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[[2]string{server, team}]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

// Set implements Store.
func (s *Memory) Set(_ context.Context, server, team, token string) error {
	if err := checkKey(server, team, token); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[[2]string{server, team}] = token
	return nil
}

// Delete implements Store.
func (s *Memory) Delete(_ context.Context, server, team string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{server, team}
	if _, ok := s.m[k]; !ok {
		return ErrNotFound
	}
	delete(s.m, k)
	return nil
}

// DeleteIf implements Store.
func (s *Memory) DeleteIf(_ context.Context, server, team, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{server, team}
	if v, ok := s.m[k]; !ok || v != token {
		return ErrNotFound
	}
	delete(s.m, k)
	return nil
}

// Name implements Store.
func (s *Memory) Name() string { return NameMemory }

// Location implements Store.
func (s *Memory) Location() string { return "memory" }
