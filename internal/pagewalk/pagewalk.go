// Package pagewalk walks HTML pages over plain HTTP the way a browser without
// JavaScript does: one cookie jar across requests, forms found in a page and
// submitted with their hidden and prefilled values, and the visible text of a
// page for messages. Tests and the bench use it to play the person at the
// browser on the server's device-authorization pages.
//
// The parsing is deliberately small: it reads the server's own pages (double
// quoted attributes, no nested forms), not arbitrary HTML.
package pagewalk

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
)

// Form is an HTML form as a browser would submit it: the values of its named
// inputs (hidden and prefilled, submit buttons left out) and of the selected,
// or else the first, option of each select. Values is embedded, so f.Set and
// f.Get change and read the values to submit.
type Form struct {
	Action string // the form's action attribute, e.g. "/device/approve"
	url.Values
}

var (
	formRe     = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe    = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	selectRe   = regexp.MustCompile(`(?is)<select\b([^>]*)>(.*?)</select>`)
	optionRe   = regexp.MustCompile(`(?is)<option\b([^>]*)>`)
	attrRe     = regexp.MustCompile(`(?is)([a-z_-]+)\s*=\s*"([^"]*)"`)
	selectedRe = regexp.MustCompile(`(?i)\bselected\b`)
	tagRe      = regexp.MustCompile(`(?s)<[^>]*>`)
	hiddenRe   = regexp.MustCompile(`(?is)<(style|script)\b.*?</(style|script)>`)
)

// attrs is the attributes of a tag (the text between its name and ">"),
// names lower-cased and values unescaped; a bare "selected" counts.
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

// FindForm returns the first form of page whose action is exactly action,
// or nil when the page has none.
func FindForm(page, action string) *Form {
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		if attrs(m[1])["action"] != action {
			continue
		}
		f := &Form{Action: action, Values: url.Values{}}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			a := attrs(in[1])
			if a["name"] != "" && a["type"] != "submit" {
				f.Set(a["name"], a["value"])
			}
		}
		for _, sel := range selectRe.FindAllStringSubmatch(m[2], -1) {
			name := attrs(sel[1])["name"]
			for i, opt := range optionRe.FindAllStringSubmatch(sel[2], -1) {
				a := attrs(opt[1])
				if i == 0 || a["selected"] != "" {
					f.Set(name, a["value"])
				}
			}
		}
		return f
	}
	return nil
}

// Text is the visible text of an HTML page for messages: tags, styles and
// scripts removed, entities unescaped, whitespace collapsed.
func Text(page string) string {
	page = hiddenRe.ReplaceAllString(page, " ")
	return strings.Join(strings.Fields(html.UnescapeString(tagRe.ReplaceAllString(page, " "))), " ")
}

// Browser is a browser session: its client keeps cookies across requests.
type Browser struct {
	Client *http.Client
	// MaxBody caps how many bytes of a page are read; 0 reads all of it.
	MaxBody int64
	// MaxText caps how many characters of a page's text an error quotes;
	// 0 quotes all of it.
	MaxText int
}

// NewBrowser returns a Browser with an empty cookie jar whose requests time
// out after timeout.
func NewBrowser(timeout time.Duration) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{Client: &http.Client{Jar: jar, Timeout: timeout}}
}

// Page is a server's answer.
type Page struct {
	StatusCode int
	Body       string
}

// Get opens rawURL, following redirects. It returns the page and, when its
// status is not 200 OK, an error naming the request, the status and the
// page's text; the page is nil only when no page could be read.
func (b *Browser) Get(rawURL string) (*Page, error) {
	resp, err := b.Client.Get(rawURL)
	if err != nil {
		return nil, err
	}
	return b.read(resp)
}

// Post submits f to base+f.Action, url-encoded, and returns the page reached
// as Get does.
func (b *Browser) Post(base string, f *Form) (*Page, error) {
	resp, err := b.Client.PostForm(base+f.Action, f.Values)
	if err != nil {
		return nil, err
	}
	return b.read(resp)
}

func (b *Browser) read(resp *http.Response) (*Page, error) {
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if b.MaxBody > 0 {
		body = io.LimitReader(body, b.MaxBody)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	p := &Page{StatusCode: resp.StatusCode, Body: string(raw)}
	if resp.StatusCode != http.StatusOK {
		text := Text(p.Body)
		if r := []rune(text); b.MaxText > 0 && len(r) > b.MaxText {
			text = string(r[:b.MaxText])
		}
		return p, fmt.Errorf("%s %s: %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Status, text)
	}
	return p, nil
}
