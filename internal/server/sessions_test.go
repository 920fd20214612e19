package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Anonymous visits store nothing: only signing in creates a session row.
func TestAnonymousSessionsAreNotStored(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		wantStatus(t, f.do("GET", "/device", "", nil), 200)
	}
	if n, err := f.srv.db.CountSessions(ctx); n != 0 || err != nil {
		t.Fatalf("%d sessions stored after anonymous visits (%v); want none", n, err)
	}
	b := newBrowser(t, f)
	b.signIn("").want(t, 200, "Enter the code")
	if n, _ := f.srv.db.CountSessions(ctx); n != 1 {
		t.Fatalf("%d sessions after signing in; want 1", n)
	}
}

func TestAnonymousSessionCookie(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, f)
	b.get("/device")
	u, _ := url.Parse(f.ts.URL)
	value := b.hc.Jar.Cookies(u)[0].Value
	if !strings.HasPrefix(value, anonPrefix) || len(value) > 100 {
		t.Fatalf("anonymous cookie %q", value)
	}
	login := func(cookie, csrf string) int {
		form := url.Values{"csrf_token": {csrf}, "email": {DevEmail}, "password": {"wrong"}, "otp": {"000000"}}
		req, _ := http.NewRequest("POST", f.ts.URL+"/device/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := login(value, b.csrf); got != 401 {
		t.Fatalf("anonymous session with its CSRF token: %d; want 401 (wrong password)", got)
	}
	other := "x"
	if b.csrf[0] == 'x' {
		other = "y"
	}
	if got := login(value, other+b.csrf[1:]); got != 403 {
		t.Fatalf("wrong CSRF token: %d; want 403", got)
	}
	// A cookie with a changed expiry (or any other byte) is no session.
	i := strings.LastIndexByte(value, '.')
	j := strings.LastIndexByte(value[:i], '.')
	forged := value[:j+1] + "9999999999" + value[i:]
	if got := login(forged, b.csrf); got != 403 {
		t.Fatalf("forged cookie: %d; want 403", got)
	}
	// After 30 minutes the anonymous session has expired.
	f.clock.Advance(anonymousTTL)
	if got := login(value, b.csrf); got != 403 {
		t.Fatalf("expired anonymous session: %d; want 403", got)
	}
}
