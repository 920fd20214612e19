package server

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

// browser walks the authorization pages with a cookie jar, as a person's
// browser would.
type browser struct {
	t    *testing.T
	f    *fixture
	hc   *http.Client
	csrf string
}

func newBrowser(t *testing.T, f *fixture) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, f: f, hc: &http.Client{Jar: jar}}
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

type page struct {
	status int
	body   string
	resp   *http.Response
}

func (b *browser) read(resp *http.Response, err error) page {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	return page{status: resp.StatusCode, body: html.UnescapeString(string(body)), resp: resp}
}

func (b *browser) get(path string) page {
	return b.read(b.hc.Get(b.f.ts.URL + path))
}

// post sends a form with the page's CSRF token (unless the form sets its own).
func (b *browser) post(path string, vals url.Values) page {
	if _, ok := vals["csrf_token"]; !ok {
		vals.Set("csrf_token", b.csrf)
	}
	return b.read(b.hc.PostForm(b.f.ts.URL+path, vals))
}

func (p page) want(t *testing.T, status int, text ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d; want %d\n%s", p.status, status, p.body)
	}
	for _, s := range text {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.body)
		}
	}
}

func (b *browser) signIn(code string) page {
	b.get("/device")
	return b.post("/device/login", url.Values{"email": {DevEmail}, "password": {b.f.dev.Password}, "otp": {b.f.code()}, "user_code": {code}})
}

func (f *fixture) startDevice(t *testing.T, vals map[string]string) deviceAuthResponse {
	t.Helper()
	r := f.form("/oauth/device/code", vals)
	wantStatus(t, r, 200)
	var d deviceAuthResponse
	r.json(t, &d)
	return d
}

func (f *fixture) poll(d deviceAuthResponse, client string) response {
	return f.form("/oauth/token", map[string]string{"grant_type": deviceGrant, "device_code": d.DeviceCode, "client_id": client})
}

func TestDeviceFlow(t *testing.T) {
	f := newFixture(t)
	d := f.startDevice(t, map[string]string{"client_id": "movitera-cli", "device_name": "meu macbook · cli", "team": "globex"})
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(d.UserCode) ||
		len(d.DeviceCode) < 43 || d.ExpiresIn != 900 || d.Interval != 5 ||
		d.VerificationURI != f.ts.URL+"/device" || d.VerificationURIComplete != f.ts.URL+"/device?user_code="+d.UserCode {
		t.Fatalf("device authorization %+v", d)
	}
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "authorization_pending")

	b := newBrowser(t, f)
	p := b.get("/device?user_code=" + d.UserCode)
	p.want(t, 200, "Sign in", `name="email"`, `name="password"`, `name="otp"`, `<label for="otp"`, `value="`+d.UserCode+`"`)
	cookie := p.resp.Header.Get("Set-Cookie")
	for _, want := range []string{"movitera_session=", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("cookie %q lacks %s", cookie, want)
		}
	}
	before := b.csrf
	p = b.post("/device/login", url.Values{"email": {"DEV@movitera.local"}, "password": {f.dev.Password}, "otp": {f.code()}, "user_code": {d.UserCode}})
	// Signed in: the confirmation page, with a new session.
	p.want(t, 200, "Approve this sign-in?", d.UserCode, "meu macbook · cli", "Movitera CLI (movitera-cli)",
		`<option value="globex" selected>`, `value="approve"`, `value="deny"`)
	if b.csrf == before {
		t.Fatal("session not rotated at sign-in")
	}
	// The old session id is gone.
	if u, _ := url.Parse(f.ts.URL); len(b.hc.Jar.Cookies(u)) != 1 {
		t.Fatal("cookie jar")
	}

	p = b.post("/device/approve", url.Values{"user_code": {d.UserCode}, "team": {"globex"}, "action": {"approve"}})
	p.want(t, 200, "You can go back to your terminal.")

	f.clock.Advance(5 * time.Second)
	r := f.poll(d, "movitera-cli")
	wantStatus(t, r, 200)
	var tr deviceTokenResponse
	r.json(t, &tr)
	if typ, err := movitera.ParseSecret(tr.AccessToken); err != nil || typ != movitera.TypeCLI ||
		tr.TokenType != "Bearer" || tr.Team != "globex" || tr.ExpiresIn != 7776000 || !strings.HasPrefix(tr.TokenID, "tok_") {
		t.Fatalf("token response %s", r.body)
	}
	var u userResponse
	f.do("GET", "/api/v1/user", tr.AccessToken, nil).json(t, &u)
	if u.Token.ID != tr.TokenID || u.Token.Name != "meu macbook · cli" || u.Token.Team != "globex" || u.Token.ClientType != "cli" ||
		!u.Token.ExpiresAt.Equal(f.clock.Now().Add(90*24*time.Hour)) {
		t.Fatalf("device token %+v", u.Token)
	}
	// Handed out once.
	f.clock.Advance(5 * time.Second)
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "invalid_grant")
	// The code cannot be approved again.
	b.get("/device?user_code="+d.UserCode).want(t, 400, "already used")
}

func TestDeviceFlowTypesAndNames(t *testing.T) {
	f := newFixture(t)
	for client, typ := range map[string]movitera.ClientType{"movitera-extension": movitera.TypeExtension, "movitera-link": movitera.TypeAgent} {
		d := f.startDevice(t, map[string]string{"client_id": client})
		b := newBrowser(t, f)
		// Typed in lower case and without the dash.
		b.signIn("").want(t, 200, "Enter the code")
		code := strings.ToLower(strings.ReplaceAll(d.UserCode, "-", ""))
		b.post("/device/code", url.Values{"user_code": {code}}).want(t, 200, d.UserCode, "(no name given)", `<option value="acme" selected>`)
		b.post("/device/approve", url.Values{"user_code": {code}, "team": {"acme"}, "action": {"approve"}}).want(t, 200, "go back to your terminal")
		var tr deviceTokenResponse
		f.poll(d, client).json(t, &tr)
		var u userResponse
		f.do("GET", "/api/v1/user", tr.AccessToken, nil).json(t, &u)
		if u.Token.ClientType != typ || u.Token.Name != client+" device" || u.Token.Team != "acme" {
			t.Fatalf("%s: token %+v", client, u.Token)
		}
	}
}

func TestDeviceDeny(t *testing.T) {
	f := newFixture(t)
	d := f.startDevice(t, map[string]string{"client_id": "movitera-cli"})
	b := newBrowser(t, f)
	b.signIn(d.UserCode).want(t, 200, d.UserCode)
	b.post("/device/approve", url.Values{"user_code": {d.UserCode}, "team": {"acme"}, "action": {"deny"}}).want(t, 200, "Sign-in denied")
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "access_denied")
	if total, _ := countTokens(t, f); total != 1 {
		t.Fatalf("%d tokens after a denial", total)
	}
}

func TestDeviceApproveChecks(t *testing.T) {
	f := newFixture(t)
	f.addPerson("eve@example.com", "initech", "manager")
	d := f.startDevice(t, map[string]string{"client_id": "movitera-cli"})
	b := newBrowser(t, f)
	b.signIn(d.UserCode).want(t, 200, d.UserCode)
	// A team the person is not in is refused; so is a bad action.
	b.post("/device/approve", url.Values{"user_code": {d.UserCode}, "team": {"initech"}, "action": {"approve"}}).want(t, 400, "Pick one of your teams")
	b.post("/device/approve", url.Values{"user_code": {d.UserCode}, "team": {"acme"}, "action": {"maybe"}}).want(t, 400)
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "authorization_pending")
	// Signed out: the approval form only leads to the sign-in page.
	anon := newBrowser(t, f)
	anon.get("/device")
	anon.post("/device/approve", url.Values{"user_code": {d.UserCode}, "team": {"acme"}, "action": {"approve"}}).want(t, 200, "Sign in")
	f.clock.Advance(5 * time.Second)
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "authorization_pending")
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	d := f.startDevice(t, map[string]string{"client_id": "movitera-cli"})
	b := newBrowser(t, f)
	b.signIn(d.UserCode).want(t, 200, d.UserCode)
	for _, token := range []string{"", "wrong", strings.Repeat("A", 43)} {
		vals := url.Values{"csrf_token": {token}, "user_code": {d.UserCode}, "team": {"acme"}, "action": {"approve"}}
		if token == "" {
			vals.Del("csrf_token")
			b.read(b.hc.PostForm(f.ts.URL+"/device/approve", vals)).want(t, 403, "Nothing was changed")
			continue
		}
		b.post("/device/approve", vals).want(t, 403, "Nothing was changed")
	}
	// Another browser's valid token does not work with this session.
	other := newBrowser(t, f)
	other.get("/device")
	vals := url.Values{"csrf_token": {other.csrf}, "user_code": {d.UserCode}, "team": {"acme"}, "action": {"approve"}}
	b.post("/device/approve", vals).want(t, 403)
	// Nor without a session at all, on every form.
	for _, path := range []string{"/device/login", "/device/code", "/device/approve"} {
		r := f.form(path, map[string]string{"csrf_token": b.csrf, "email": DevEmail, "password": f.dev.Password, "otp": f.code(), "user_code": d.UserCode, "team": "acme", "action": "approve"})
		if r.StatusCode != 403 {
			t.Fatalf("%s without session: %d", path, r.StatusCode)
		}
	}
	f.clock.Advance(5 * time.Second)
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "authorization_pending")
}

func TestSignInFailures(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, f)
	b.get("/device")
	// A code already accepted elsewhere is refused.
	code := f.code()
	wantStatus(t, f.do("POST", "/api/v1/second-factor", f.dev.Token, map[string]string{"code": code}), 200)
	b.post("/device/login", url.Values{"email": {DevEmail}, "password": {f.dev.Password}, "otp": {code}}).want(t, 401, usedCodeMessage)
	// The clock stands still from here: no bucket refills.
	wrong := "The email, password or authenticator code is wrong"
	b.post("/device/login", url.Values{"email": {DevEmail}, "password": {"nope"}, "otp": {"000000"}}).want(t, 401, wrong)
	b.post("/device/login", url.Values{"email": {"nobody@example.com"}, "password": {"nope"}, "otp": {"000000"}}).want(t, 401, wrong)
	b.post("/device/login", url.Values{"email": {DevEmail}, "password": {f.dev.Password}, "otp": {"000000"}}).want(t, 401, wrong)
	b.post("/device/login", url.Values{"email": {DevEmail}, "password": {"nope"}, "otp": {"000000"}}).want(t, 401, wrong)
	// Five failures for this session: the sixth attempt waits, even a right one.
	next, _ := TOTPCode(f.dev.TOTPSecret, f.clock.Now().Add(totpPeriod*time.Second))
	p := b.post("/device/login", url.Values{"email": {DevEmail}, "password": {f.dev.Password}, "otp": {next}})
	p.want(t, 429, "Too many attempts")
	if p.resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Per email too: from a fresh browser, that email has one attempt left.
	nb := newBrowser(t, f)
	nb.get("/device")
	nb.post("/device/login", url.Values{"email": {DevEmail}, "password": {"nope"}, "otp": {"000000"}}).want(t, 401, wrong)
	nb.post("/device/login", url.Values{"email": {DevEmail}, "password": {f.dev.Password}, "otp": {next}}).want(t, 429)
	f.clock.Advance(2 * time.Minute)
	nb.post("/device/login", url.Values{"email": {DevEmail}, "password": {f.dev.Password}, "otp": {f.code()}}).want(t, 200, "Enter the code")
}

func TestUserCodeBruteForce(t *testing.T) {
	f := newFixture(t)
	d := f.startDevice(t, map[string]string{"client_id": "movitera-cli"})
	b := newBrowser(t, f)
	b.signIn("").want(t, 200, "Enter the code")
	b.post("/device/code", url.Values{"user_code": {"AAAA-AAAA"}}).want(t, 400, "not a valid code")
	for i := 0; i < failuresPerSession.burst-1; i++ {
		b.post("/device/code", url.Values{"user_code": {"BBBB-BBBB"}}).want(t, 400, "No sign-in is waiting")
	}
	b.post("/device/code", url.Values{"user_code": {d.UserCode}}).want(t, 429, "Too many attempts")
	b.get("/device?user_code="+d.UserCode).want(t, 429)
	f.clock.Advance(time.Minute)
	b.post("/device/code", url.Values{"user_code": {d.UserCode}}).want(t, 200, "Approve this sign-in?")
}

func TestDevicePolling(t *testing.T) {
	f := newFixture(t)
	d := f.startDevice(t, map[string]string{"client_id": "movitera-cli"})
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "authorization_pending")
	f.clock.Advance(3 * time.Second)
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "slow_down")
	// The interval is now 10 seconds from that poll (1 s of slack).
	f.clock.Advance(8 * time.Second)
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "slow_down")
	f.clock.Advance(15 * time.Second)
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "authorization_pending")
	f.clock.Advance(15 * time.Second)
	wantOAuth(t, f.poll(d, "movitera-extension"), 400, "invalid_grant")
	wantOAuth(t, f.poll(d, "someone"), 400, "invalid_client")
	wantOAuth(t, f.poll(deviceAuthResponse{DeviceCode: "nope"}, "movitera-cli"), 400, "invalid_grant")
	wantOAuth(t, f.form("/oauth/token", map[string]string{"grant_type": "password", "client_id": "movitera-cli"}), 400, "unsupported_grant_type")
	wantOAuth(t, f.form("/oauth/token", map[string]string{"client_id": "movitera-cli"}), 400, "invalid_request")
	wantOAuth(t, f.form("/oauth/token", map[string]string{"grant_type": deviceGrant, "client_id": "movitera-cli"}), 400, "invalid_request")

	// Expired: by the clock, 15 minutes after issue, even once approved.
	b := newBrowser(t, f)
	b.signIn(d.UserCode).want(t, 200, d.UserCode)
	f.clock.Advance(15 * time.Minute)
	b.post("/device/approve", url.Values{"user_code": {d.UserCode}, "team": {"acme"}, "action": {"approve"}}).want(t, 400, "expired")
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "expired_token")
}

func TestDeviceAuthorizationRequests(t *testing.T) {
	f := newFixture(t)
	wantOAuth(t, f.form("/oauth/device/code", map[string]string{"client_id": "github"}), 400, "invalid_client")
	wantOAuth(t, f.form("/oauth/device/code", map[string]string{}), 400, "invalid_client")
	wantOAuth(t, f.form("/oauth/device/code", map[string]string{"client_id": "movitera-cli", "device_name": strings.Repeat("x", 101)}), 400, "invalid_request")
	wantOAuth(t, f.form("/oauth/device/code", map[string]string{"client_id": "movitera-cli", "device_name": "a\x1bb"}), 400, "invalid_request")
	wantOAuth(t, f.form("/oauth/device/code", map[string]string{"client_id": "movitera-cli", "team": "Not A Slug"}), 400, "invalid_request")
	r := f.do("POST", "/oauth/device/code", "", "client_id=movitera-cli&device_name="+strings.Repeat("x", 70<<10), "Content-Type", "application/x-www-form-urlencoded")
	wantStatus(t, r, 413)
	// Codes are unique and spread over the alphabet.
	seen := map[string]bool{}
	for i := 0; i < 40; i++ {
		d := f.startDevice(t, map[string]string{"client_id": "movitera-cli"})
		if seen[d.UserCode] || seen[d.DeviceCode] {
			t.Fatal("repeated code")
		}
		seen[d.UserCode], seen[d.DeviceCode] = true, true
	}
}

// A client that polls on its interval, give or take a few milliseconds of
// timer jitter, is not told to slow down; one that polls at half of it is.
func TestDevicePollingSlack(t *testing.T) {
	f := newFixture(t)
	d := f.startDevice(t, map[string]string{"client_id": "movitera-cli"})
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "authorization_pending")
	for i := 0; i < 3; i++ {
		f.clock.Advance(5*time.Second - 10*time.Millisecond)
		wantOAuth(t, f.poll(d, "movitera-cli"), 400, "authorization_pending")
	}
	f.clock.Advance(2500 * time.Millisecond)
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "slow_down")
	// The interval is now 10 s: 10 ms early is fine, half of it is not.
	f.clock.Advance(10*time.Second - 10*time.Millisecond)
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "authorization_pending")
	f.clock.Advance(5 * time.Second)
	wantOAuth(t, f.poll(d, "movitera-cli"), 400, "slow_down")

	for _, c := range []struct {
		elapsed, interval time.Duration
		want              bool
	}{
		{5*time.Second - 10*time.Millisecond, 5 * time.Second, false},
		{4 * time.Second, 5 * time.Second, false},
		{4*time.Second - time.Millisecond, 5 * time.Second, true},
		{2500 * time.Millisecond, 5 * time.Second, true},
		{800 * time.Millisecond, time.Second, false}, // interval/5 when under 1 s
		{790 * time.Millisecond, time.Second, true},
		{29 * time.Second, 30 * time.Second, false}, // 1 s at most
		{28 * time.Second, 30 * time.Second, true},
	} {
		if got := tooSoon(c.elapsed, c.interval); got != c.want {
			t.Errorf("tooSoon(%v, %v) = %v; want %v", c.elapsed, c.interval, got, c.want)
		}
	}
}

// A replayed TOTP code is named as such only after a right password: with a
// wrong password or an unknown email the page says what it says for any
// wrong answer, so it tells nothing about accounts.
func TestSignInReplayedCode(t *testing.T) {
	f := newFixture(t)
	used := f.code()
	wantStatus(t, f.do("POST", "/api/v1/second-factor", f.dev.Token, map[string]string{"code": used}), 200)

	b := newBrowser(t, f)
	b.get("/device")
	for _, creds := range [][2]string{{DevEmail, "wrong password"}, {"nobody@example.com", "wrong password"}} {
		p := b.post("/device/login", url.Values{"email": {creds[0]}, "password": {creds[1]}, "otp": {used}})
		p.want(t, 401, wrongSignIn)
		if strings.Contains(p.body, "already used") {
			t.Fatalf("a replayed code named after a wrong password (%s):\n%s", creds[0], p.body)
		}
	}
	p := b.post("/device/login", url.Values{"email": {DevEmail}, "password": {f.dev.Password}, "otp": {used}})
	p.want(t, 401, usedCodeMessage)
	if strings.Contains(p.body, wrongSignIn) {
		t.Fatalf("replayed code with the generic message too:\n%s", p.body)
	}

	// A code that signed in one browser is refused, by name, in another.
	fresh := f.code()
	first := newBrowser(t, f)
	first.get("/device")
	first.post("/device/login", url.Values{"email": {DevEmail}, "password": {f.dev.Password}, "otp": {fresh}}).want(t, 200, "Enter the code")
	second := newBrowser(t, f)
	second.get("/device")
	second.post("/device/login", url.Values{"email": {DevEmail}, "password": {f.dev.Password}, "otp": {fresh}}).want(t, 401, usedCodeMessage)
	second.post("/device/login", url.Values{"email": {DevEmail}, "password": {f.dev.Password}, "otp": {f.code()}}).want(t, 200, "Enter the code")
}
