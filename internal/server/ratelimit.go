package server

import (
	"crypto/sha256"
	"slices"
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
//
// Sign-in failures are counted per email from one address, so that someone
// who knows an email cannot lock its owner out from elsewhere; the looser
// per-email ceiling bounds guessing from many addresses at once (one
// address gets at most 5, then 1 a minute, of them).
var (
	failuresPerSession  = limit{every: time.Minute, burst: 5}
	failuresPerIP       = limit{every: 10 * time.Second, burst: 20}
	failuresPerEmailIP  = limit{every: time.Minute, burst: 5}
	failuresPerEmail    = limit{every: 10 * time.Second, burst: 30}
	failuresPerUser     = limit{every: time.Minute, burst: 5}
	codeFailuresPerUser = limit{every: time.Minute, burst: 10}
	requestsPerIP       = limit{every: time.Second / 2, burst: 60}
)

// limiters holds one bucket per (kind, key), for example ("ip", "10.0.0.1").
// Every operation on them holds one lock, so an attempt is reserved before
// it is evaluated: parallel requests cannot all see a bucket with room.
//
// Memory is bounded: a bucket is keyed by a 16-byte hash of its value
// whatever that value's length, a refused request creates no bucket, full
// buckets (no different from absent ones) are dropped every minute, and
// there are never more than maxBuckets.
type limiters struct {
	mu      sync.Mutex
	buckets map[limitKey]*bucket
	max     int
}

// maxBuckets bounds the buckets held (about 100 bytes each).
const maxBuckets = 100_000

// limitKey names a bucket: its kind ("ip", "email", …) and the hash of its
// value.
type limitKey struct {
	kind string
	sum  [16]byte
}

// keyed is a bucket to spend from and its limit.
type keyed struct {
	key limitKey
	lm  limit
}

// bucketOf names the bucket of a kind for a value, with its limit.
func bucketOf(kind, value string, lm limit) keyed {
	h := sha256.Sum256([]byte(value))
	k := limitKey{kind: kind}
	copy(k.sum[:], h[:])
	return keyed{key: k, lm: lm}
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

func (b *bucket) full(now time.Time) bool { return b.level(now) >= float64(b.lm.burst) }

func newLimiters() *limiters {
	return &limiters{buckets: map[limitKey]*bucket{}, max: maxBuckets}
}

// wait is how long until every bucket of keys has an attempt to give; 0
// when all have. It creates no bucket. Callers hold l.mu.
func (l *limiters) wait(now time.Time, keys []keyed) time.Duration {
	var wait time.Duration
	for _, k := range keys {
		b, ok := l.buckets[k.key]
		if !ok {
			continue // a new bucket is full
		}
		if lvl := b.level(now); lvl < 1 {
			if d := time.Duration((1 - lvl) * float64(k.lm.every)); d > wait {
				wait = d
			}
		}
	}
	return wait
}

// reserve takes one attempt from every bucket of keys if all have one, and
// otherwise takes none and says how long to wait. An attempt that turns out
// to be a success is given back with refund.
func (l *limiters) reserve(now time.Time, keys ...keyed) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.wait(now, keys); wait > 0 {
		return wait, false
	}
	for _, k := range keys {
		b, ok := l.buckets[k.key]
		if !ok {
			if len(l.buckets) >= l.max {
				l.evict(now)
			}
			b = &bucket{tokens: float64(k.lm.burst), last: now, lm: k.lm}
			l.buckets[k.key] = b
		}
		b.add(now, -1)
	}
	return 0, true
}

// refund gives back an attempt taken by reserve.
func (l *limiters) refund(now time.Time, keys ...keyed) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if b, ok := l.buckets[k.key]; ok {
			b.add(now, 1)
		}
	}
}

// evict makes room when the map is at its bound: it drops the full buckets
// and, if that is not enough, the least recently used ones, down to 90% of
// the bound (so that the next evictions are a while away). Callers hold l.mu.
func (l *limiters) evict(now time.Time) {
	l.dropFull(now)
	keep := l.max * 9 / 10
	if len(l.buckets) <= keep {
		return
	}
	type aged struct {
		key  limitKey
		last time.Time
	}
	all := make([]aged, 0, len(l.buckets))
	for k, b := range l.buckets {
		all = append(all, aged{k, b.last})
	}
	slices.SortFunc(all, func(a, b aged) int { return a.last.Compare(b.last) })
	for _, a := range all[:len(all)-keep] {
		delete(l.buckets, a.key)
	}
}

func (l *limiters) dropFull(now time.Time) {
	for k, b := range l.buckets {
		if b.full(now) {
			delete(l.buckets, k)
		}
	}
}

// prune forgets the buckets that have filled up again: they are no
// different from absent ones.
func (l *limiters) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropFull(now)
}
