//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/pagewalk"
)

// pageClient walks the server's authorization pages over plain HTTP, with
// a cookie jar, as a browser without JavaScript does.
type pageClient struct {
	t    *testing.T
	base string
	b    *pagewalk.Browser
}

func newPageClient(t *testing.T, v *vault) *pageClient {
	return &pageClient{t: t, base: v.URL, b: pagewalk.NewBrowser(15 * time.Second)}
}

// page is an HTML answer.
type page struct {
	Status int
	Body   string
}

func (p page) Text() string { return pagewalk.Text(p.Body) }

func (c *pageClient) get(rawURL string) page {
	c.t.Helper()
	if strings.HasPrefix(rawURL, "/") {
		rawURL = c.base + rawURL
	}
	p, err := c.b.Get(rawURL)
	if p == nil {
		c.t.Fatalf("GET %s: %v", rawURL, err)
	}
	return page{Status: p.StatusCode, Body: p.Body}
}

func (c *pageClient) post(action string, values url.Values) page {
	c.t.Helper()
	p, err := c.b.Post(c.base, &pagewalk.Form{Action: action, Values: values})
	if p == nil {
		c.t.Fatalf("POST %s: %v", action, err)
	}
	return page{Status: p.StatusCode, Body: p.Body}
}

// signIn signs the page client in with the dev user's email, password and a
// fresh TOTP code, from the page at rawURL; it returns the page reached.
func (c *pageClient) signIn(v *vault, rawURL string) page {
	c.t.Helper()
	p := c.get(rawURL)
	f := findForm(p.Body, "/device/login")
	if f == nil {
		c.t.Fatalf("no sign-in form at %s (status %d): %s", rawURL, p.Status, p.Text())
	}
	f.Set("email", v.Dev.Email)
	f.Set("password", v.Dev.Password)
	f.Set("otp", v.totpCode(c.t))
	p = c.post("/device/login", f.Values)
	if p.Status != http.StatusOK {
		c.t.Fatalf("signing in: status %d: %s", p.Status, p.Text())
	}
	return p
}

// approve plays the person at the browser without a browser: it opens
// rawURL, signs in when the page asks for it (once per pageClient, like a
// browser's session), then approves, or denies, the pending login.
func (c *pageClient) approve(v *vault, rawURL string, deny bool) page {
	c.t.Helper()
	p := c.get(rawURL)
	if findForm(p.Body, "/device/login") != nil {
		p = c.signIn(v, rawURL)
	}
	f := findForm(p.Body, "/device/approve")
	if f == nil {
		c.t.Fatalf("no approval form at %s: %s", rawURL, p)
	}
	f.Set("action", map[bool]string{true: "deny", false: "approve"}[deny])
	p = c.post("/device/approve", f.Values)
	if p.Status != http.StatusOK {
		c.t.Fatalf("approving: %s", p)
	}
	return p
}

// deviceAuth is the server's answer to POST /oauth/device/code.
type deviceAuth struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// startDeviceAuth asks for a device code as the CLI's OAuth client.
func (v *vault) startDeviceAuth(t *testing.T) deviceAuth {
	t.Helper()
	resp, err := http.PostForm(v.URL+"/oauth/device/code", url.Values{"client_id": {"movitera-cli"}, "device_name": {"e2e · cli"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d deviceAuth
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != 200 || d.DeviceCode == "" {
		t.Fatalf("POST /oauth/device/code: status %d, %v, %+v", resp.StatusCode, err, d)
	}
	return d
}

// pollDeviceToken polls POST /oauth/token once and returns the OAuth error
// code ("" when a token was issued).
func (v *vault) pollDeviceToken(t *testing.T, deviceCode string) string {
	t.Helper()
	resp, err := http.PostForm(v.URL+"/oauth/token", url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {deviceCode}, "client_id": {"movitera-cli"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error       string `json:"error"`
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode == 200 && body.AccessToken != "" {
		return ""
	}
	if body.Error == "" {
		t.Fatalf("POST /oauth/token: status %d with no error code", resp.StatusCode)
	}
	return body.Error
}

// findForm is the form of body with that action, nil when there is none.
func findForm(body, action string) *pagewalk.Form { return pagewalk.FindForm(body, action) }

func (p page) String() string { return fmt.Sprintf("status %d: %s", p.Status, p.Text()) }
