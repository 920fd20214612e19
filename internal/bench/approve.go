//go:build linux

package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/movitera/movitera/internal/pagewalk"
)

// approver is the person at the browser: it walks the server's real device
// pages over HTTP with a cookie jar — signs in once (email, password, a TOTP
// code), then approves each code it is given.
type approver struct {
	base  string
	creds *devCreds
	b     *pagewalk.Browser
	steps map[int64]bool // TOTP steps already used: the server takes each code once
}

func newApprover(base string, c *devCreds) (*approver, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1" && u.Hostname() != "localhost") {
		return nil, fmt.Errorf("refusing to approve on %q: loopback only", base)
	}
	b := pagewalk.NewBrowser(10 * time.Second)
	b.MaxBody, b.MaxText = 1<<20, 300
	return &approver{base: base, creds: c, steps: map[int64]bool{}, b: b}, nil
}

func (a *approver) approve(link string) error {
	if !strings.HasPrefix(link, a.base+"/") {
		return fmt.Errorf("verification URL %q is not on the bench server %s", link, a.base)
	}
	page, err := a.b.Get(link)
	if err != nil {
		return err
	}
	if f := pagewalk.FindForm(page.Body, "/device/login"); f != nil {
		code, err := a.code()
		if err != nil {
			return err
		}
		f.Set("email", a.creds.Email)
		f.Set("password", a.creds.Password)
		f.Set("otp", code)
		if page, err = a.b.Post(a.base, f); err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
	}
	f := pagewalk.FindForm(page.Body, "/device/approve")
	if f == nil {
		return fmt.Errorf("no approval form on the page: %.300s", pagewalk.Text(page.Body))
	}
	f.Set("action", "approve")
	_, err = a.b.Post(a.base, f)
	return err
}

// code is a TOTP code of a 30-second step not used yet (one step of skew
// either side is accepted).
func (a *approver) code() (string, error) {
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		cur := time.Now().Unix() / 30
		for _, step := range []int64{cur - 1, cur, cur + 1} {
			if a.steps[step] {
				continue
			}
			a.steps[step] = true
			return totp.GenerateCodeCustom(a.creds.TOTPSecret, time.Unix(step*30, 0),
				totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		}
	}
	return "", fmt.Errorf("no unused TOTP step")
}
