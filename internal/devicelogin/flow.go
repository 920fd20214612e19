// Package devicelogin is OAuth 2.0 device authorization (RFC 8628) as the
// CLI lives it: ask for a code, show it with the URL, open the browser,
// wait for the approval with a spinner or a few plain lines, and hand back
// the token. Storing it is the caller's business.
package devicelogin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/iostreams"
	"github.com/movitera/movitera/internal/safetext"
)

// Errors that end a login. Their messages say what to do next.
var (
	ErrDenied  = errors.New("the login was denied in the browser: nothing was stored; run 'movitera login' to try again")
	ErrExpired = errors.New("the code expired before the login was approved: nothing was stored; run 'movitera login' for a new code")
)

// Flow is one device login.
type Flow struct {
	OAuth      *oauth2.Config
	HTTPClient *http.Client // carries proxy, CA and the --debug trace
	IO         *iostreams.IOStreams
	DeviceName string // names the token, e.g. "laptop · cli"
	Team       string // preselects a team on the page; "" for none

	// Open launches the browser on the URL; nil when no browser is to be
	// opened. NoOpenReason, when set, is shown instead.
	Open         func(url string) error
	NoOpenReason string

	Now     func() time.Time // time.Now when nil
	Backoff []time.Duration  // waits after network errors; the last repeats
}

// Result is an approved login.
type Result struct {
	AccessToken string
	Team        string    // the team the person picked on the page
	TokenID     string    // tok_…
	Expiry      time.Time // zero when it never expires
}

// Run asks for a code, shows it, and waits until the person approves or
// denies it, the code expires, or ctx ends (Ctrl-C: ctx.Err() is
// returned).
func (f *Flow) Run(ctx context.Context) (*Result, error) {
	if f.Now == nil {
		f.Now = time.Now
	}
	octx := context.WithValue(ctx, oauth2.HTTPClient, f.HTTPClient)
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("device_name", f.DeviceName)}
	if f.Team != "" {
		opts = append(opts, oauth2.SetAuthURLParam("team", f.Team))
	}
	da, err := f.OAuth.DeviceAuth(octx, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, f.explain("cannot start the login", err)
	}
	link := da.VerificationURIComplete
	if link == "" {
		link = da.VerificationURI
	}
	if err := checkURL(link); err != nil {
		return nil, err
	}
	code := clean(da.UserCode)
	fmt.Fprintf(f.IO.ErrOut, "! First copy your one-time code: %s\n", code)
	fmt.Fprintf(f.IO.ErrOut, "Open this URL to continue in your browser: %s\n", clean(link))
	switch {
	case f.Open != nil:
		if err := f.Open(link); err != nil {
			fmt.Fprintf(f.IO.ErrOut, "warning: could not open a browser (%v): open the URL above yourself\n", err)
		}
	case f.NoOpenReason != "":
		fmt.Fprintf(f.IO.ErrOut, "Not opening a browser: %s. Open the URL on any device with a browser.\n", f.NoOpenReason)
	}

	if da.Expiry.IsZero() {
		da.Expiry = f.Now().Add(15 * time.Minute)
	}
	p := startProgress(f.IO, da.Expiry, f.Now)
	res, err := f.poll(ctx, octx, da, p)
	p.stop()
	return res, err
}

func (f *Flow) poll(ctx, octx context.Context, da *oauth2.DeviceAuthResponse, p *progress) (*Result, error) {
	backoff := f.Backoff
	if len(backoff) == 0 {
		backoff = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second}
	}
	failures := 0
	for {
		tok, err := f.OAuth.DeviceAccessToken(octx, da)
		if err == nil {
			if failures > 0 {
				p.warn("reached the server again")
			}
			return result(tok)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !f.Now().Before(da.Expiry) {
			return nil, ErrExpired
		}
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && !transientStatus(re) {
			switch re.ErrorCode {
			case "access_denied":
				return nil, ErrDenied
			case "expired_token":
				return nil, ErrExpired
			case "invalid_grant":
				return nil, errors.New("the server no longer knows this login (it was used or cancelled): nothing was stored; run 'movitera login' again")
			}
			return nil, f.explain("the login failed", err)
		}
		var ue *url.Error
		if !errors.As(err, &ue) && re == nil {
			return nil, f.explain("the login failed", err)
		}
		// A network error or a busy server: back off and keep waiting
		// until the code expires.
		wait := backoff[min(failures, len(backoff)-1)]
		if failures == 0 {
			p.warn(fmt.Sprintf("cannot reach the vault (%v); still waiting", shortErr(err)))
		}
		failures++
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func transientStatus(re *oauth2.RetrieveError) bool {
	if re.Response == nil || re.ErrorCode != "" {
		return false
	}
	s := re.Response.StatusCode
	return s >= 500 || s == http.StatusTooManyRequests
}

func result(tok *oauth2.Token) (*Result, error) {
	r := &Result{AccessToken: tok.AccessToken, Expiry: tok.Expiry}
	r.Team, _ = tok.Extra("team").(string)
	r.TokenID, _ = tok.Extra("token_id").(string)
	if r.AccessToken == "" || r.Team == "" {
		return nil, errors.New("the server approved the login but sent no token or team: is it a movitera vault?")
	}
	return r, nil
}

// explain turns an oauth2 error into a sentence.
func (f *Flow) explain(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := re.ErrorDescription
		if msg == "" {
			msg = re.ErrorCode
		}
		if msg == "" && re.Response != nil {
			msg = "the server answered " + re.Response.Status
			if req := re.Response.Request; req != nil {
				if d, ok := client.SpeaksHTTPS(req.URL, re.Response.StatusCode, re.Body); ok {
					msg = d
				}
			}
		}
		return fmt.Errorf("%s: %s", what, clean(msg))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// The API client's sentence for the same failure: certificate,
		// plain HTTP on an https:// address, or an unreachable host.
		return fmt.Errorf("%s: %w", what, &client.NetworkError{Server: hostOf(f.OAuth.Endpoint.DeviceAuthURL), Err: err})
	}
	return fmt.Errorf("%s: %v", what, err)
}

func shortErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return errors.New(re.Response.Status)
	}
	return err
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host
}

// checkURL refuses a verification URL that is not http(s): it is handed to
// a browser launcher.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("the server sent a verification URL this CLI will not open (%q): is it a movitera vault?", clean(s))
	}
	return nil
}

// clean neutralises control characters in text from the server.
func clean(s string) string { return safetext.Clean(s) }
