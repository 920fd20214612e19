package server

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages renders the authorization pages: server-side HTML forms that work
// without JavaScript.
type pages struct {
	t map[string]*template.Template
}

// pageData is what every page template may show.
type pageData struct {
	Title       string
	Error       string
	Message     string
	Back        bool
	CSRF        string
	Email       string
	UserCode    string
	SignedInAs  string
	DevHint     string
	DeviceName  string
	ClientLabel string
	TokenType   string
	Teams       []teamOption
}

type teamOption struct {
	movitera.Team
	Selected bool
}

func newPages() *pages {
	p := &pages{t: map[string]*template.Template{}}
	for _, name := range []string{"signin", "code", "confirm", "message"} {
		p.t[name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return p
}

func (p *pages) render(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := p.t[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// message renders a page with a title and a sentence.
func (p *pages) message(w http.ResponseWriter, status int, title, msg string) {
	p.render(w, status, "message", pageData{Title: title, Message: msg, Back: status >= 400})
}

func (p *pages) tooMany(w http.ResponseWriter, wait time.Duration) {
	secs := int(wait.Round(time.Second)/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	p.render(w, http.StatusTooManyRequests, "message", pageData{
		Title:   "Too many attempts",
		Error:   "There were too many wrong attempts from this browser or address.",
		Message: "Wait " + strconv.Itoa(secs) + " seconds, then try again. Check the code in your terminal and your authenticator app.",
	})
}

func (p *pages) badForm(w http.ResponseWriter) {
	p.render(w, http.StatusForbidden, "message", pageData{
		Title:   "This form has expired",
		Error:   "The form was not sent from this browser session (its security token is missing or wrong).",
		Message: "Nothing was changed. Open the page again and resend the form.",
		Back:    true,
	})
}
