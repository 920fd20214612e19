package server

import (
	"net"
	"net/http"
	"sync"
	"time"
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
// Every operation on them holds one lock, so an attempt is reserved before
// it is evaluated: parallel requests cannot all see a bucket with room.
type limiters struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is a token bucket: tokens as of last, refilled one per every up to
// burst.
type bucket struct {
	tokens float64
	last   time.Time
	lm     limit
}

func (b *bucket) level(now time.Time) float64 {
	t := b.tokens
	if now.After(b.last) {
		t += float64(now.Sub(b.last)) / float64(b.lm.every)
	}
	return min(t, float64(b.lm.burst))
}

func (b *bucket) add(now time.Time, n float64) {
	b.tokens = min(b.level(now)+n, float64(b.lm.burst))
	if now.After(b.last) {
		b.last = now
	}
}

func newLimiters() *limiters { return &limiters{buckets: map[string]*bucket{}} }

// wait is how long until every bucket of keys has an attempt to give; 0
// when all have. Callers hold l.mu.
func (l *limiters) wait(now time.Time, keys map[string]limit) time.Duration {
	var wait time.Duration
	for k, lm := range keys {
		b, ok := l.buckets[k]
		if !ok {
			continue // a new bucket is full
		}
		if lvl := b.level(now); lvl < 1 {
			if d := time.Duration((1 - lvl) * float64(lm.every)); d > wait {
				wait = d
			}
		}
	}
	return wait
}

// reserve takes one attempt from every bucket of keys if all have one, and
// otherwise takes none and says how long to wait. An attempt that turns out
// to be a success is given back with refund.
func (l *limiters) reserve(now time.Time, keys map[string]limit) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.wait(now, keys); wait > 0 {
		return wait, false
	}
	for k, lm := range keys {
		b, ok := l.buckets[k]
		if !ok {
			b = &bucket{tokens: float64(lm.burst), last: now, lm: lm}
			l.buckets[k] = b
		}
		b.add(now, -1)
	}
	return 0, true
}

// refund gives back an attempt taken by reserve.
func (l *limiters) refund(now time.Time, keys map[string]limit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range keys {
		if b, ok := l.buckets[k]; ok {
			b.add(now, 1)
		}
	}
}

// prune forgets buckets unused for an hour (they are full again by then).
func (l *limiters) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		if now.Sub(b.last) > time.Hour {
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
