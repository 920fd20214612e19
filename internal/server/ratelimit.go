package server

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// A limit is a token bucket: burst attempts at once, then one per every.
type limit struct {
	every time.Duration
	burst int
}

// The limits. Failures (wrong user codes, passwords, TOTP codes) spend the
// bucket; every RFC 7009 revocation and device-code request does.
var (
	failuresPerSession = limit{every: time.Minute, burst: 5}
	failuresPerIP      = limit{every: 10 * time.Second, burst: 20}
	failuresPerEmail   = limit{every: time.Minute, burst: 5}
	failuresPerUser    = limit{every: time.Minute, burst: 5}
	requestsPerIP      = limit{every: time.Second / 2, burst: 60}
)

// limiters holds one bucket per (kind, key), for example ("ip", "10.0.0.1").
type limiters struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiters() *limiters { return &limiters{buckets: map[string]*bucket{}} }

func (l *limiters) get(key string, lm limit, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Every(lm.every), lm.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim
}

// blocked reports whether any of the buckets is empty, and how long until
// the first one has room again.
func (l *limiters) blocked(now time.Time, keys map[string]limit) (time.Duration, bool) {
	var wait time.Duration
	for k, lm := range keys {
		lim := l.get(k, lm, now)
		if lim.TokensAt(now) < 1 {
			d := time.Duration((1 - lim.TokensAt(now)) * float64(lm.every))
			if d > wait {
				wait = d
			}
		}
	}
	return wait, wait > 0
}

// spend takes one attempt from every bucket.
func (l *limiters) spend(now time.Time, keys map[string]limit) {
	for k, lm := range keys {
		l.get(k, lm, now).AllowN(now, 1)
	}
}

// allow spends one attempt from every bucket and reports whether all had
// room.
func (l *limiters) allow(now time.Time, keys map[string]limit) (time.Duration, bool) {
	if wait, blocked := l.blocked(now, keys); blocked {
		return wait, false
	}
	l.spend(now, keys)
	return 0, true
}

// prune forgets buckets unused for an hour (they are full again by then).
func (l *limiters) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		if now.Sub(b.seen) > time.Hour {
			delete(l.buckets, k)
		}
	}
}

// clientIP is the peer's address. Forwarding headers are not trusted: the
// server is meant to be reached directly.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
