package server

import (
	"sync"

	"github.com/movitera/movitera/internal/movitera"
)

// authCacheMax bounds each map of authCache; when full it starts afresh.
const authCacheMax = 10_000

// authCache keeps what checking a bearer token reads from the database (the
// token, its user and the user's role in its team) and the teams of a user,
// for as long as the store's generation is unchanged: any write the server
// commits (a revocation, a new second factor, a membership, the minutely
// last-use flush) empties it, so a revoked token still fails on the very
// next request. Expiry is checked on every request against the clock.
type authCache struct {
	mu      sync.RWMutex
	gen     uint64
	callers map[string]*caller         // by the secret's hash
	teams   map[string][]movitera.Team // by user id
}

func newAuthCache() *authCache {
	return &authCache{callers: map[string]*caller{}, teams: map[string][]movitera.Team{}}
}

// caller returns the cached caller for a secret hash, if the cache is of
// generation gen.
func (c *authCache) caller(gen uint64, hash string) *caller {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.gen != gen {
		return nil
	}
	return c.callers[hash]
}

func (c *authCache) teamsOf(gen uint64, userID string) ([]movitera.Team, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.gen != gen {
		return nil, false
	}
	t, ok := c.teams[userID]
	return t, ok
}

// put records values read from the database after reading generation gen.
// Values of an older generation than the cache's are dropped.
func (c *authCache) put(gen uint64, fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen < c.gen:
		return
	case gen > c.gen:
		c.gen = gen
		clear(c.callers)
		clear(c.teams)
	}
	if len(c.callers) >= authCacheMax {
		clear(c.callers)
	}
	if len(c.teams) >= authCacheMax {
		clear(c.teams)
	}
	fn()
}

func (c *authCache) putCaller(gen uint64, hash string, v *caller) {
	c.put(gen, func() { c.callers[hash] = v })
}

func (c *authCache) putTeams(gen uint64, userID string, teams []movitera.Team) {
	c.put(gen, func() { c.teams[userID] = teams })
}
