package main

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// approver is the person at the browser: it walks the server's real device
// pages over HTTP with a cookie jar — signs in once (email, password, a TOTP
// code), then approves each code it is given.
type approver struct {
	base  string
	creds *devCreds
	hc    *http.Client
	steps map[int64]bool // TOTP steps already used: the server takes each code once
}

func newApprover(base string, c *devCreds) (*approver, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1" && u.Hostname() != "localhost") {
		return nil, fmt.Errorf("refusing to approve on %q: loopback only", base)
	}
	jar, _ := cookiejar.New(nil)
	return &approver{base: base, creds: c, steps: map[int64]bool{},
		hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}, nil
}

func (a *approver) approve(link string) error {
	if !strings.HasPrefix(link, a.base+"/") {
		return fmt.Errorf("verification URL %q is not on the bench server %s", link, a.base)
	}
	page, err := a.get(link)
	if err != nil {
		return err
	}
	if f := findForm(page, "/device/login"); f != nil {
		code, err := a.code()
		if err != nil {
			return err
		}
		f.values.Set("email", a.creds.Email)
		f.values.Set("password", a.creds.Password)
		f.values.Set("otp", code)
		if page, err = a.post(f); err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
	}
	f := findForm(page, "/device/approve")
	if f == nil {
		return fmt.Errorf("no approval form on the page: %.300s", textOf(page))
	}
	f.values.Set("action", "approve")
	_, err = a.post(f)
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

func (a *approver) get(u string) (string, error) {
	resp, err := a.hc.Get(u)
	if err != nil {
		return "", err
	}
	return readPage(resp)
}

func (a *approver) post(f *form) (string, error) {
	resp, err := a.hc.PostForm(a.base+f.action, f.values)
	if err != nil {
		return "", err
	}
	return readPage(resp)
}

func readPage(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %s: %.300s", resp.Request.Method, resp.Request.URL.Path, resp.Status, textOf(string(b)))
	}
	return string(b), nil
}

// form is an HTML form as a browser submits it: hidden and prefilled
// inputs, and the selected (or first) option of each select.
type form struct {
	action string
	values url.Values
}

var (
	formRe     = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe    = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	selectRe   = regexp.MustCompile(`(?is)<select\b([^>]*)>(.*?)</select>`)
	optionRe   = regexp.MustCompile(`(?is)<option\b([^>]*)>`)
	attrRe     = regexp.MustCompile(`(?is)([a-z_-]+)\s*=\s*"([^"]*)"`)
	selectedRe = regexp.MustCompile(`(?i)\bselected\b`)
	tagRe      = regexp.MustCompile(`(?s)<[^>]*>`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	if selectedRe.MatchString(s) {
		m["selected"] = "selected"
	}
	return m
}

func findForm(page, action string) *form {
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		if attrs(m[1])["action"] != action {
			continue
		}
		f := &form{action: action, values: url.Values{}}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			at := attrs(in[1])
			if at["name"] != "" && at["type"] != "submit" {
				f.values.Set(at["name"], at["value"])
			}
		}
		for _, sel := range selectRe.FindAllStringSubmatch(m[2], -1) {
			name := attrs(sel[1])["name"]
			for i, opt := range optionRe.FindAllStringSubmatch(sel[2], -1) {
				at := attrs(opt[1])
				if i == 0 || at["selected"] != "" {
					f.values.Set(name, at["value"])
				}
			}
		}
		return f
	}
	return nil
}

func textOf(page string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRe.ReplaceAllString(page, " "))), " ")
}
