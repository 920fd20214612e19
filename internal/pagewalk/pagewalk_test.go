package pagewalk

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const page = `<html><head><style>body { color: red }</style></head><body>
<form method="post" action="/device/login"><input name="email"></form>
<FORM method="post" action="/device/approve">
  <input type="hidden" name="csrf_token" value="a&amp;b&quot;c&#39;d">
  <input type="hidden" name="user_code" value="ABCD-EFGH">
  <select name="team" id="team">
    <option value="acme">Acme &amp; Co</option>
    <option value="beta" selected>Beta</option>
    <option value="gamma">Gamma</option>
  </select>
  <select name="role"><option value="viewer">Viewer</option><option value="manager">Manager</option></select>
  <input type="submit" name="action" value="approve">
  <button type="submit" name="action" value="deny">Deny</button>
</FORM>
<p>Tom &amp; Jerry&nbsp;say   hi</p><script>var x = "<b>";</script></body></html>`

func TestFindForm(t *testing.T) {
	f := FindForm(page, "/device/approve")
	if f == nil {
		t.Fatal("no /device/approve form")
	}
	if f.Action != "/device/approve" {
		t.Errorf("Action = %q", f.Action)
	}
	want := map[string]string{
		"csrf_token": `a&b"c'd`,   // attribute entities unescaped
		"user_code":  "ABCD-EFGH", // hidden input
		"team":       "beta",      // the selected option
		"role":       "viewer",    // no selected option: the first
	}
	for k, v := range want {
		if got := f.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if f.Has("action") {
		t.Errorf("a submit button's value is in the form: %q", f.Get("action"))
	}
	if len(f.Values) != len(want) {
		t.Errorf("values = %v, want only %v", f.Values, want)
	}
	if f := FindForm(page, "/device"); f != nil {
		t.Errorf("found a form for an action the page lacks: %+v", f)
	}
}

func TestText(t *testing.T) {
	got := Text(`<style>p { x: 1 }</style><h1>Approve&nbsp;this?</h1>
	<p>Tom &amp; Jerry</p><script>alert(1)</script>`)
	if want := "Approve this? Tom & Jerry"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

func TestBrowser(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/start":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s1", Path: "/"})
			w.Write([]byte(page))
		case "/device/approve":
			if c, err := r.Cookie("sid"); err != nil || c.Value != "s1" {
				http.Error(w, "<p>no session</p>", http.StatusForbidden)
				return
			}
			if r.PostFormValue("csrf_token") != `a&b"c'd` || r.PostFormValue("team") != "beta" {
				http.Error(w, "<p>bad form</p>", http.StatusBadRequest)
				return
			}
			w.Write([]byte("<p>Approved</p>"))
		}
	}))
	defer srv.Close()

	b := NewBrowser(5 * time.Second)
	p, err := b.Get(srv.URL + "/start")
	if err != nil || p.StatusCode != http.StatusOK {
		t.Fatalf("Get: %v, %+v", err, p)
	}
	f := FindForm(p.Body, "/device/approve")
	p, err = b.Post(srv.URL, f)
	if err != nil || Text(p.Body) != "Approved" {
		t.Fatalf("Post with the session cookie: %v, %+v", err, p)
	}

	other := NewBrowser(5 * time.Second)
	other.MaxText = 5
	p, err = other.Post(srv.URL, f)
	if p == nil || p.StatusCode != http.StatusForbidden {
		t.Fatalf("Post without the cookie: want the 403 page, got %+v", p)
	}
	if want := "POST /device/approve: 403 Forbidden: no se"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if !strings.Contains(p.Body, "no session") {
		t.Errorf("the refused page's body is lost: %q", p.Body)
	}
}
