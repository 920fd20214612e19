package server

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// parallel sends n copies of a request at once and counts the answers that
// were not 429: the attempts the server evaluated.
func parallel(t *testing.T, n int, send func() (*http.Response, error)) int {
	t.Helper()
	var evaluated atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := send()
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests {
				evaluated.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	return int(evaluated.Load())
}

// postAs posts a form with a browser's session cookie and CSRF token,
// without touching the browser (safe from many goroutines).
func (b *browser) postAs(path string, vals url.Values) func() (*http.Response, error) {
	u, _ := url.Parse(b.f.ts.URL)
	cookies := b.hc.Jar.Cookies(u)
	vals.Set("csrf_token", b.csrf)
	body := vals.Encode()
	return func() (*http.Response, error) {
		req, err := http.NewRequest("POST", b.f.ts.URL+path, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		return http.DefaultClient.Do(req)
	}
}

// Attempts are reserved before they are checked: parallel wrong answers get
// no more checks than the burst.
func TestRateLimitParallelAttempts(t *testing.T) {
	const n = 60
	t.Run("password", func(t *testing.T) {
		f := newFixture(t)
		b := newBrowser(t, f)
		b.get("/device")
		got := parallel(t, n, b.postAs("/device/login", url.Values{"email": {DevEmail}, "password": {"wrong"}, "otp": {"000000"}}))
		if got > failuresPerSession.burst {
			t.Errorf("%d of %d parallel wrong passwords were checked; want at most %d", got, n, failuresPerSession.burst)
		}
	})
	t.Run("user code", func(t *testing.T) {
		f := newFixture(t)
		b := newBrowser(t, f)
		b.signIn("").want(t, 200, "Enter the code")
		got := parallel(t, n, b.postAs("/device/code", url.Values{"user_code": {"BBBB-BBBB"}}))
		if got > failuresPerSession.burst {
			t.Errorf("%d of %d parallel wrong user codes were looked up; want at most %d", got, n, failuresPerSession.burst)
		}
	})
	t.Run("second factor", func(t *testing.T) {
		f := newFixture(t)
		got := parallel(t, n, func() (*http.Response, error) {
			req, _ := http.NewRequest("POST", f.ts.URL+"/api/v1/second-factor", strings.NewReader(`{"code":"000000"}`))
			req.Header.Set("Authorization", "Bearer "+f.dev.Token)
			req.Header.Set("Content-Type", "application/json")
			return http.DefaultClient.Do(req)
		})
		if got > failuresPerUser.burst {
			t.Errorf("%d of %d parallel wrong TOTP codes were checked; want at most %d", got, n, failuresPerUser.burst)
		}
	})
}

func TestLimitersReserveRefund(t *testing.T) {
	l := newLimiters()
	a, b := bucketOf("t", "a", limit{every: time.Minute, burst: 2}), bucketOf("t", "b", limit{every: time.Second, burst: 5})
	keys := []keyed{a, b}
	for i := 0; i < 2; i++ {
		if _, ok := l.reserve(epoch, keys...); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	wait, ok := l.reserve(epoch, keys...)
	if ok || wait != time.Minute {
		t.Fatalf("third attempt: ok %v, wait %v; want refused for a minute", ok, wait)
	}
	// A refused attempt took nothing from the bucket that had room.
	if lvl := l.buckets[b.key].level(epoch); lvl != 3 {
		t.Fatalf("b holds %v; want 3", lvl)
	}
	l.refund(epoch, keys...)
	if _, ok := l.reserve(epoch, keys...); !ok {
		t.Fatal("refunded attempt refused")
	}
	if _, ok := l.reserve(epoch.Add(59*time.Second), keys...); ok {
		t.Fatal("refilled too early")
	}
	if _, ok := l.reserve(epoch.Add(time.Minute), keys...); !ok {
		t.Fatal("not refilled after a minute")
	}
}

// The buckets stay bounded whatever is sent: keys of any length take the
// same room, refused attempts create none, full ones are pruned, and there
// are never more than the bound.
func TestLimitersBounded(t *testing.T) {
	l := newLimiters()
	l.max = 100
	lm := limit{every: time.Minute, burst: 2}
	for i := 0; i < 1000; i++ {
		l.reserve(epoch.Add(time.Duration(i)*time.Millisecond), bucketOf("email", strings.Repeat("x", i), lm))
		if len(l.buckets) > l.max {
			t.Fatalf("%d buckets after %d keys; bound %d", len(l.buckets), i+1, l.max)
		}
	}
	// The most recently used survive eviction.
	if _, ok := l.buckets[bucketOf("email", strings.Repeat("x", 999), lm).key]; !ok {
		t.Error("the newest bucket was evicted")
	}
	// A refused attempt creates no bucket for its other keys.
	full := bucketOf("session", "s", limit{every: time.Minute, burst: 1})
	l.reserve(epoch, full)
	n := len(l.buckets)
	for i := 0; i < 10; i++ {
		if _, ok := l.reserve(epoch, full, bucketOf("email", "new"+strings.Repeat("y", i), lm)); ok {
			t.Fatal("attempt allowed from an empty bucket")
		}
	}
	if len(l.buckets) != n {
		t.Errorf("refused attempts created %d buckets", len(l.buckets)-n)
	}
	// Once full again, buckets are pruned.
	l.prune(epoch.Add(time.Hour))
	if len(l.buckets) != 0 {
		t.Errorf("%d buckets left after they refilled", len(l.buckets))
	}
}

// Over-long sign-in fields are refused before anything is keyed on them.
func TestSignInFieldBounds(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, f)
	b.get("/device")
	long := strings.Repeat("a", 60<<10) + "@example.com"
	for _, vals := range []url.Values{
		{"email": {long}, "password": {"x"}, "otp": {"000000"}},
		{"email": {strings.Repeat("a", 243) + "@example.com"}, "password": {"x"}, "otp": {"000000"}},
		{"email": {DevEmail}, "password": {strings.Repeat("p", 2000)}, "otp": {"000000"}},
		{"email": {DevEmail}, "password": {"x"}, "otp": {strings.Repeat("1", 100)}},
	} {
		b.post("/device/login", vals).want(t, 400, "too long")
	}
	if n := len(f.srv.limits.buckets); n != 0 {
		t.Errorf("%d rate-limit buckets after refused forms; want none", n)
	}
	// 254 bytes is still an email.
	b.post("/device/login", url.Values{"email": {strings.Repeat("a", 242) + "@example.com"}, "password": {"x"}, "otp": {"000000"}}).want(t, 401)
}

// newBrowserFrom is a browser whose connections come from a loopback
// address of its own (127.0.0.0/8 all reaches the test server).
func newBrowserFrom(t *testing.T, f *fixture, ip string) *browser {
	b := newBrowser(t, f)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	b.hc.Transport = &http.Transport{DialContext: d.DialContext}
	return b
}

// Wrong passwords from one address do not lock the account's owner out
// elsewhere; a looser ceiling per email holds across addresses.
func TestSignInLockoutIsPerAddress(t *testing.T) {
	f := newFixture(t)
	wrong := func() url.Values { return url.Values{"email": {DevEmail}, "password": {"wrong"}, "otp": {"000000"}} }
	// From 127.0.0.2, in fresh sessions, the pair (email, address) runs out.
	for i := 0; i < failuresPerEmailIP.burst; i++ {
		b := newBrowserFrom(t, f, "127.0.0.2")
		b.get("/device")
		b.post("/device/login", wrong()).want(t, 401)
	}
	b := newBrowserFrom(t, f, "127.0.0.2")
	b.get("/device")
	b.post("/device/login", wrong()).want(t, 429)
	// The owner, from another address, signs in.
	owner := newBrowserFrom(t, f, "127.0.0.3")
	owner.signIn("").want(t, 200, "Enter the code")

	// The per-email ceiling: spread over addresses, failures run out too.
	g := newFixture(t)
	for n, ip := 0, 10; n < failuresPerEmail.burst; ip++ {
		for i := 0; i < failuresPerEmailIP.burst && n < failuresPerEmail.burst; i, n = i+1, n+1 {
			b := newBrowserFrom(t, g, "127.0.1."+strconv.Itoa(ip))
			b.get("/device")
			b.post("/device/login", wrong()).want(t, 401)
		}
	}
	late := newBrowserFrom(t, g, "127.0.2.1")
	late.get("/device")
	late.post("/device/login", wrong()).want(t, 429)
}

// Wrong user codes are counted per person too, whatever the session.
func TestUserCodeFailuresPerUser(t *testing.T) {
	f := newFixture(t)
	var bs []*browser
	for i := 0; i < 3; i++ {
		b := newBrowser(t, f)
		b.signIn("").want(t, 200, "Enter the code")
		bs = append(bs, b)
	}
	for n := 0; n < codeFailuresPerUser.burst; n++ {
		bs[n%3].post("/device/code", url.Values{"user_code": {"BBBB-BBBB"}}).want(t, 400, "No sign-in is waiting")
	}
	bs[2].post("/device/code", url.Values{"user_code": {"BBBB-BBBB"}}).want(t, 429)
}

func TestClientNet(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.1:5000":              "192.0.2.1",
		"[::ffff:192.0.2.1]:5000":     "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:5000": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443":  "2001:db8:1:2::/64",
		"[fe80::1%eth0]:5000":         "fe80::/64",
		"not an address":              "not an address",
	} {
		if got := (&Server{}).clientNet(&http.Request{RemoteAddr: remote}); got != want {
			t.Errorf("%s: %s; want %s", remote, got, want)
		}
	}
}
