package server

import (
	"net/http"
	"net/url"
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
	keys := map[string]limit{"a": {every: time.Minute, burst: 2}, "b": {every: time.Second, burst: 5}}
	for i := 0; i < 2; i++ {
		if _, ok := l.reserve(epoch, keys); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	wait, ok := l.reserve(epoch, keys)
	if ok || wait != time.Minute {
		t.Fatalf("third attempt: ok %v, wait %v; want refused for a minute", ok, wait)
	}
	// A refused attempt took nothing from the bucket that had room.
	if lvl := l.buckets["b"].level(epoch); lvl != 3 {
		t.Fatalf("b holds %v; want 3", lvl)
	}
	l.refund(epoch, keys)
	if _, ok := l.reserve(epoch, keys); !ok {
		t.Fatal("refunded attempt refused")
	}
	if _, ok := l.reserve(epoch.Add(59*time.Second), keys); ok {
		t.Fatal("refilled too early")
	}
	if _, ok := l.reserve(epoch.Add(time.Minute), keys); !ok {
		t.Fatal("not refilled after a minute")
	}
}
