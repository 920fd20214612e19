//go:build e2e

package e2e

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium (or CHROMIUM when set).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	requireTools(t, "the browser test", "chromium")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns a
// tab's context; the browser ends with the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(900, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(tab); err != nil { // starts the browser and opens the tab
		if inCI() {
			t.Fatalf("CI=true: starting %s: %v", path, err)
		}
		t.Skipf("the browser test needs a working Chromium; starting %s failed: %v", path, err)
	}
	// Every later action of the test runs within this bound; the browser
	// itself lives until the test ends.
	ctx, cancelTimeout := context.WithTimeout(tab, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// browse runs chromedp actions and fails the test on error, with what the
// page showed.
func browse(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v\npage: %s", err, bodyText(ctx))
	}
}

// read runs one action that returns a value; it fails the test on error.
func read[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, bodyText(ctx))
	}
	return v
}

const innerText = `document.body ? document.body.innerText : ""`

// bodyText is the page's visible text, for assertions and failure messages.
func bodyText(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(c, chromedp.Location())
	if err != nil {
		return "(page unavailable: " + err.Error() + ")"
	}
	s, err := chromedp.Run(c, chromedp.Evaluate[string](innerText))
	if err != nil {
		return loc + "\n(page text unavailable: " + err.Error() + ")"
	}
	return loc + "\n" + s
}

// waitText waits until the page's text contains want.
func waitText(t *testing.T, ctx context.Context, want string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](innerText))
		if err == nil && strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not show %q within %s; it shows:\n%s", want, within, bodyText(ctx))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// signInBrowser fills the sign-in form as a person types it and submits it.
func signInBrowser(t *testing.T, ctx context.Context, v *vault, otp string) {
	t.Helper()
	browse(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), v.Dev.Email),
		chromedp.SendKeys(chromedp.CSS(`#password`), v.Dev.Password),
		chromedp.SendKeys(chromedp.CSS(`#otp`), otp),
		chromedp.Click(chromedp.CSS(`form[action="/device/login"] button[type=submit]`)),
	)
}

// screenshot saves the page as PNG in dir (and in $E2E_ARTIFACTS when set).
func screenshot(t *testing.T, ctx context.Context, dir, name string) string {
	t.Helper()
	png := read(t, ctx, chromedp.FullScreenshot(100))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("E2E_ARTIFACTS"); out != "" {
		os.MkdirAll(out, 0o755)
		os.WriteFile(filepath.Join(out, name), png, 0o644)
	}
	return path
}

// noCredentialStored checks that a failed login left nothing behind.
func noCredentialStored(t *testing.T, u *user) {
	t.Helper()
	if files := listFiles(t, u.ConfigDir); len(files) > 0 {
		for _, f := range files {
			if strings.Contains(f, "credentials") {
				t.Errorf("a failed login wrote %s in the config dir", f)
			}
		}
	}
	r := u.run("status")
	if r.Code != 4 {
		t.Errorf("status after a failed login: want exit 4 (not authenticated), got:\n%s", r)
	}
}

// TestBrowserLoginApprove: a person approves a waiting `movitera login` in
// a real browser; the login completes and status shows them.
func TestBrowserLoginApprove(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	v := startServer(t, serverOptions{})
	u := newUser(t, v)
	login := u.startLogin(nil, "--insecure-storage")

	browse(t, ctx, chromedp.Navigate(login.URL))
	waitText(t, ctx, "Sign in", 10*time.Second)
	signInBrowser(t, ctx, v, v.totpCode(t))
	waitText(t, ctx, "Approve this sign-in?", 10*time.Second)

	shown := read(t, ctx, chromedp.Text(chromedp.CSS(`.code`)))
	team := read(t, ctx, chromedp.Value(chromedp.CSS(`#team`)))
	if strings.TrimSpace(shown) != login.UserCode {
		t.Errorf("the page shows code %q, the terminal %q", shown, login.UserCode)
	}
	page := bodyText(ctx)
	for _, want := range []string{v.Dev.Email, "Movitera CLI", "Approve", "Deny"} {
		if !strings.Contains(page, want) {
			t.Errorf("the confirmation page lacks %q:\n%s", want, page)
		}
	}
	if team == "" {
		t.Errorf("the confirmation page preselects no team")
	}
	shot := screenshot(t, ctx, t.TempDir(), "approval-page.png")
	t.Logf("approval page screenshot: %s", shot)
	if login.running() == false {
		t.Fatalf("the login ended before approval:\n%s", login.wait(time.Second))
	}

	browse(t, ctx, chromedp.Click(chromedp.CSS(`button[name=action][value=approve]`)))
	waitText(t, ctx, "You can go back to your terminal.", 10*time.Second)

	r := login.wait(30 * time.Second)
	if r.Code != 0 {
		t.Fatalf("login after approval:\n%s", r)
	}
	if r.Stdout != "" {
		t.Errorf("login wrote on stdout (data only): %q", r.Stdout)
	}
	file := filepath.Join(u.ConfigDir, "credentials.json")
	wantStderr := "! First copy your one-time code: " + login.UserCode + "\n" +
		"Open this URL to continue in your browser: " + login.URL + "\n" +
		"Waiting for the approval in the browser (the code expires in 15 minutes)...\n" +
		"✓ Logged in to " + v.URL + " as " + v.Dev.Email + " (team " + team + ", manager); token stored in " + file + " (plain text, 0600; --insecure-storage)\n"
	if r.Stderr != wantStderr {
		t.Errorf("login's stderr:\n got %q\nwant %q", r.Stderr, wantStderr)
	}
	st := u.mustRun("status")
	for _, re := range []string{
		`(?m)^Server:\s+` + regexp.QuoteMeta(v.URL) + `$`,
		`(?m)^User:\s+.*<` + regexp.QuoteMeta(v.Dev.Email) + `>$`,
		`(?m)^Team:\s+` + team + ` \(manager\)$`,
		`(?m)^Token:\s+.* · cli \(CLI, mvc_[0-9A-Za-z]{8}\)$`,
		`(?m)^Expires:\s+in 90 days`,
		`(?m)^Stored in:\s+` + regexp.QuoteMeta(file),
	} {
		if !regexp.MustCompile(re).MatchString(st.Stdout) {
			t.Errorf("status does not match %s:\n%s", re, st)
		}
	}
}

// TestBrowserLoginDeny: the person denies; the login ends with a clear
// message and a non-zero exit, and nothing is stored.
func TestBrowserLoginDeny(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	v := startServer(t, serverOptions{})
	u := newUser(t, v)
	login := u.startLogin(nil, "--insecure-storage")

	browse(t, ctx, chromedp.Navigate(login.URL))
	signInBrowser(t, ctx, v, v.totpCode(t))
	waitText(t, ctx, "Approve this sign-in?", 10*time.Second)
	browse(t, ctx, chromedp.Click(chromedp.CSS(`button[name=action][value=deny]`)))
	text := waitText(t, ctx, "go back to your terminal", 10*time.Second)
	if !regexp.MustCompile(`(?i)den(ied|y)`).MatchString(text) {
		t.Errorf("the closing page after Deny does not say it was denied:\n%s", text)
	}

	r := login.wait(30 * time.Second)
	if r.Code != 1 {
		t.Fatalf("login after deny: want exit 1:\n%s", r)
	}
	if want := "\nerror: the login was denied in the browser: nothing was stored; run 'movitera login' to try again\n"; !strings.HasSuffix(r.Stderr, want) {
		t.Errorf("login after deny does not end with %q:\n%s", want, r)
	}
	if r.Stdout != "" {
		t.Errorf("login wrote on stdout: %q", r.Stdout)
	}
	noCredentialStored(t, u)
}

// TestBrowserWrongTOTP: a wrong authenticator code shows an error and does
// not sign in.
func TestBrowserWrongTOTP(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	v := startServer(t, serverOptions{})
	d := v.startDeviceAuth(t)

	browse(t, ctx, chromedp.Navigate(d.VerificationURIComplete))
	signInBrowser(t, ctx, v, v.wrongTOTP(t))
	text := waitText(t, ctx, "The email, password or authenticator code is wrong", 10*time.Second)
	if strings.Contains(text, "Approve this sign-in?") || strings.Contains(text, d.UserCode) && strings.Contains(text, "Approve") {
		t.Errorf("a wrong TOTP code reached the confirmation page:\n%s", text)
	}
	alert := read(t, ctx, chromedp.Text(chromedp.CSS(`.error[role=alert]`)))
	if alert == "" {
		t.Errorf("no error shown in the alert box")
	}
	// Not signed in: the device page still asks to sign in.
	browse(t, ctx, chromedp.Navigate(v.URL+"/device"))
	text = waitText(t, ctx, "Sign in", 10*time.Second)
	if strings.Contains(text, "Signed in as") {
		t.Errorf("a wrong TOTP code signed the browser in:\n%s", text)
	}
	browse(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#otp`)))
	if got := v.pollDeviceToken(t, d.DeviceCode); got != "authorization_pending" {
		t.Errorf("the device code after a failed sign-in: want authorization_pending, got %q", got)
	}
}

// TestBrowserWrongUserCode: a signed-in person types a code that matches no
// pending login; the page says so and offers nothing to approve.
func TestBrowserWrongUserCode(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	v := startServer(t, serverOptions{})
	d := v.startDeviceAuth(t)
	wrong := "BBBB-BBBB"
	if d.UserCode == wrong {
		wrong = "CCCC-CCCC"
	}

	browse(t, ctx, chromedp.Navigate(v.URL+"/device"))
	signInBrowser(t, ctx, v, v.totpCode(t))
	waitText(t, ctx, "Enter the code from your terminal", 10*time.Second)
	browse(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#user_code`), strings.ToLower(strings.ReplaceAll(wrong, "-", ""))),
		chromedp.Click(chromedp.CSS(`form[action="/device/code"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.error[role=alert]`)),
	)
	alert := read(t, ctx, chromedp.Text(chromedp.CSS(`.error[role=alert]`)))
	if !regexp.MustCompile(`(?i)code`).MatchString(alert) {
		t.Errorf("the error for a wrong code does not talk about the code: %q", alert)
	}
	text := bodyText(ctx)
	if strings.Contains(text, "Approve this sign-in?") {
		t.Errorf("a wrong code reached the confirmation page:\n%s", text)
	}
	approveButtons := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('button[value=approve]').length`))
	if approveButtons != 0 {
		t.Errorf("a wrong code shows an Approve button:\n%s", text)
	}
	if got := v.pollDeviceToken(t, d.DeviceCode); got != "authorization_pending" {
		t.Errorf("the real pending code after a wrong one was typed: want authorization_pending, got %q", got)
	}

	// The right code, typed lower case without the dash, is found.
	browse(t, ctx, chromedp.Navigate(v.URL+"/device"))
	waitText(t, ctx, "Enter the code from your terminal", 10*time.Second)
	browse(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#user_code`), strings.ToLower(strings.ReplaceAll(d.UserCode, "-", ""))),
		chromedp.Click(chromedp.CSS(`form[action="/device/code"] button[type=submit]`)),
	)
	waitText(t, ctx, "Approve this sign-in?", 10*time.Second)
	shown := read(t, ctx, chromedp.Text(chromedp.CSS(`.code`)))
	if strings.TrimSpace(shown) != d.UserCode {
		t.Errorf("typed %s, the page shows %q", d.UserCode, shown)
	}
}

// TestBrowserExpiredCode: the code expires while the confirmation page is
// open; approving then shows an error, and the waiting login ends saying the
// code expired, with nothing stored.
func TestBrowserExpiredCode(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	const ttl = 10 * time.Second // the shortest --device-code-ttl the server takes
	v := startServer(t, serverOptions{deviceCodeTTL: ttl})
	u := newUser(t, v)
	started := time.Now()
	login := u.startLogin(nil, "--insecure-storage")

	browse(t, ctx, chromedp.Navigate(login.URL))
	signInBrowser(t, ctx, v, v.totpCode(t))
	waitText(t, ctx, "Approve this sign-in?", 10*time.Second)
	time.Sleep(time.Until(started.Add(ttl + 1500*time.Millisecond)))

	browse(t, ctx, chromedp.Click(chromedp.CSS(`button[name=action][value=approve]`)))
	text := waitText(t, ctx, "That code has expired. Start the sign-in again from your terminal and enter the new code.", 10*time.Second)
	if strings.Contains(text, "You can go back to your terminal.") && !strings.Contains(strings.ToLower(text), "expired") {
		t.Errorf("approving an expired code looks like a success:\n%s", text)
	}
	alerts := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('.error').length`))
	if alerts == 0 {
		t.Errorf("the expired code is not shown as an error:\n%s", text)
	}

	r := login.wait(30 * time.Second)
	if r.Code != 1 {
		t.Fatalf("login with an expired code: want exit 1:\n%s", r)
	}
	if want := "\nerror: the code expired before the login was approved: nothing was stored; run 'movitera login' for a new code\n"; !strings.HasSuffix(r.Stderr, want) {
		t.Errorf("login with an expired code does not end with %q:\n%s", want, r)
	}
	noCredentialStored(t, u)
}

// TestBrowserFormWithoutCSRF: the approval form posted without its CSRF
// token is refused (403) and changes nothing, in a real browser and over
// plain HTTP with a wrong token.
func TestBrowserFormWithoutCSRF(t *testing.T) {
	t.Parallel()
	v := startServer(t, serverOptions{})

	t.Run("http", func(t *testing.T) {
		d := v.startDeviceAuth(t)
		c := newPageClient(t, v)
		p := c.signIn(v, d.VerificationURIComplete)
		f := findForm(p.Body, "/device/approve")
		if f == nil {
			t.Fatalf("no approval form: %s", p)
		}
		if f.Get("csrf_token") == "" {
			t.Fatalf("the approval form carries no csrf_token")
		}
		for name, mutate := range map[string]func(url.Values){
			"missing": func(v url.Values) { v.Del("csrf_token") },
			"empty":   func(v url.Values) { v.Set("csrf_token", "") },
			"wrong":   func(v url.Values) { v.Set("csrf_token", strings.Repeat("A", len(v.Get("csrf_token")))) },
		} {
			vals := url.Values{}
			for k, vs := range f.Values {
				vals[k] = append([]string(nil), vs...)
			}
			vals.Set("action", "approve")
			mutate(vals)
			got := c.post("/device/approve", vals)
			if got.Status != http.StatusForbidden {
				t.Errorf("approve with a %s csrf_token: want 403, got %s", name, got)
			}
			if strings.Contains(got.Text(), "You can go back to your terminal") {
				t.Errorf("approve with a %s csrf_token looks like a success: %s", name, got)
			}
			if code := v.pollDeviceToken(t, d.DeviceCode); code != "authorization_pending" {
				t.Fatalf("after approve with a %s csrf_token: want authorization_pending, got %q", name, code)
			}
			time.Sleep(1100 * time.Millisecond) // the poll interval: no slow_down next time
		}
		// The sign-in form without a token is refused too, and signs no one in.
		other := newPageClient(t, v)
		other.get("/device")
		got := other.post("/device/login", url.Values{
			"email": {v.Dev.Email}, "password": {v.Dev.Password}, "otp": {v.totpCode(t)},
		})
		if got.Status != http.StatusForbidden {
			t.Errorf("sign in without csrf_token: want 403, got %s", got)
		}
		if p := other.get("/device"); findForm(p.Body, "/device/login") == nil {
			t.Errorf("sign in without csrf_token signed the browser in: %s", p)
		}
		// The untouched form still works: the refusals changed nothing.
		f.Set("action", "approve")
		if p := c.post("/device/approve", f.Values); p.Status != http.StatusOK || !strings.Contains(p.Text(), "You can go back to your terminal") {
			t.Errorf("the real form after the refused ones: %s", p)
		}
	})

	t.Run("browser", func(t *testing.T) {
		ctx := newBrowser(t)
		d := v.startDeviceAuth(t)
		browse(t, ctx, chromedp.Navigate(d.VerificationURIComplete))
		signInBrowser(t, ctx, v, v.totpCode(t))
		waitText(t, ctx, "Approve this sign-in?", 10*time.Second)
		browse(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())`))
		resp := read(t, ctx, chromedp.WaitEvent(network.ResponseReceived, func(e network.EventResponseReceived) bool {
			u, err := url.Parse(e.Response.URL)
			return e.Type == network.ResourceTypeDocument && err == nil && u.Path == "/device/approve"
		}, chromedp.Click(chromedp.CSS(`button[name=action][value=approve]`))))
		text := waitText(t, ctx, "Nothing was changed", 10*time.Second)
		if !strings.Contains(text, "security token") {
			t.Errorf("the 403 page does not explain the missing security token:\n%s", text)
		}
		if got := resp.Response.Status; got != http.StatusForbidden {
			t.Errorf("the approve post without csrf_token: want 403, got %d", got)
		}
		if code := v.pollDeviceToken(t, d.DeviceCode); code != "authorization_pending" {
			t.Errorf("after the refused post: want authorization_pending, got %q", code)
		}
	})
}
