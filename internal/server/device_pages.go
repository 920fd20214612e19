package server

import (
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/movitera/movitera/internal/store"
)

// pageRequest is what every authorization page works from: the session and,
// when signed in, the user.
type pageRequest struct {
	sess *store.Session
	user *store.User
}

// begin loads the session of a page request. For a POST it reads the form
// and checks its CSRF token; false means an answer was written.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) (*pageRequest, bool) {
	var sess *store.Session
	var err error
	if r.Method == http.MethodPost {
		if err := parseForm(w, r); err != nil {
			if errors.Is(err, errTooLarge) {
				s.pages.message(w, http.StatusRequestEntityTooLarge, "Request too large", "The form sent is over 64 KiB. Nothing was changed.")
			} else {
				s.pages.message(w, http.StatusBadRequest, "Bad request", "The form could not be read. Nothing was changed.")
			}
			return nil, false
		}
		sess, err = s.currentSession(r)
		if err == nil && !validCSRF(r, sess) {
			s.pages.badForm(w)
			return nil, false
		}
	} else {
		sess, err = s.ensureSession(w, r)
	}
	if err != nil {
		s.pageError(w, r, err)
		return nil, false
	}
	pr := &pageRequest{sess: sess}
	if sess.UserID != "" {
		if pr.user, err = s.db.UserByID(r.Context(), sess.UserID); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.pageError(w, r, err)
			return nil, false
		}
	}
	return pr, true
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	s.pages.message(w, http.StatusInternalServerError, "Something went wrong", "The server could not complete this step. Try again.")
}

func (s *Server) signInPage(w http.ResponseWriter, status int, pr *pageRequest, code, email, problem string) {
	d := pageData{Title: "Sign in", CSRF: pr.sess.CSRF, UserCode: code, Email: email, Error: problem}
	if s.cfg.Dev {
		d.DevHint = filepath.Join(s.cfg.DataDir, devCredentialsFile)
	}
	s.pages.render(w, status, "signin", d)
}

func (s *Server) codePage(w http.ResponseWriter, status int, pr *pageRequest, code, problem string) {
	s.pages.render(w, status, "code", pageData{Title: "Enter the code", CSRF: pr.sess.CSRF, UserCode: code,
		SignedInAs: pr.user.Email, Error: problem})
}

// devicePage is GET /device[?user_code=…]: sign in, enter the code, or
// confirm it, depending on where the person is.
func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.begin(w, r)
	if !ok {
		return
	}
	code := codeForForm(r.URL.Query().Get("user_code"))
	switch {
	case pr.user == nil:
		s.signInPage(w, http.StatusOK, pr, code, "", "")
	case code == "":
		s.codePage(w, http.StatusOK, pr, "", "")
	default:
		s.confirmPage(w, r, pr, code, "")
	}
}

// codeForForm is a user code as it is put back into a form: the canonical
// XXXX-XXXX when it is well formed, else what was typed (bounded).
func codeForForm(raw string) string {
	if c, ok := normalizeUserCode(raw); ok {
		return displayUserCode(c)
	}
	if len(raw) > 12 {
		raw = raw[:12]
	}
	return strings.TrimSpace(raw)
}

// Longest fields of the sign-in form, in bytes (an email address is at most
// 254 characters, RFC 5321).
const (
	maxEmail    = 254
	maxPassword = 1024
	maxOTP      = 16
)

// Messages of a refused sign-in. wrongSignIn is one for a wrong email,
// password or code (no account oracle); usedCodeMessage follows a right
// password only.
const (
	wrongSignIn     = "The email, password or authenticator code is wrong. Check them and try again."
	usedCodeMessage = "That code was already used: wait for the next one."
)

// deviceLogin is POST /device/login: email, password and TOTP code.
func (s *Server) deviceLogin(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.begin(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	email := strings.TrimSpace(f.Get("email"))
	code := codeForForm(f.Get("user_code"))
	// Over-long fields are refused before anything is looked up or keyed.
	if len(email) > maxEmail || len(f.Get("password")) > maxPassword || len(f.Get("otp")) > maxOTP {
		s.signInPage(w, http.StatusBadRequest, pr, code, "", "The email, password or authenticator code is too long. Check them and try again.")
		return
	}
	now := s.now()
	keys := []keyed{
		bucketOf("session", pr.sess.IDHash, failuresPerSession),
		bucketOf("ip", s.clientNet(r), failuresPerIP),
		bucketOf("email-ip", strings.ToLower(email)+"\x00"+s.clientNet(r), failuresPerEmailIP),
		bucketOf("email", strings.ToLower(email), failuresPerEmail),
	}
	// The attempt is taken before the check and given back on success.
	if wait, ok := s.limits.reserve(now, keys...); !ok {
		s.pages.tooMany(w, wait)
		return
	}
	user, err := s.db.UserByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.limits.refund(now, keys...)
		s.pageError(w, r, err)
		return
	}
	if user == nil {
		checkPassword(dummyHash(), f.Get("password"))
	}
	if user == nil || !checkPassword(user.PasswordHash, f.Get("password")) {
		s.signInPage(w, http.StatusUnauthorized, pr, code, email, wrongSignIn)
		return
	}
	switch err := s.checkTOTP(r.Context(), user, f.Get("otp"), now); {
	case errors.Is(err, errWrongCode):
		s.signInPage(w, http.StatusUnauthorized, pr, code, email, wrongSignIn)
		return
	case errors.Is(err, errUsedCode):
		// Said only once the password was right: it tells nothing of the
		// account that the password does not already prove.
		s.signInPage(w, http.StatusUnauthorized, pr, code, email, usedCodeMessage)
		return
	case err != nil:
		s.limits.refund(now, keys...)
		s.pageError(w, r, err)
		return
	}
	s.limits.refund(now, keys...)
	if err := s.db.DeleteSession(r.Context(), pr.sess.IDHash); err != nil {
		s.pageError(w, r, err)
		return
	}
	if _, err := s.startSession(w, r, user.ID); err != nil {
		s.pageError(w, r, err)
		return
	}
	next := "/device"
	if c, ok := normalizeUserCode(code); ok {
		next += "?user_code=" + url.QueryEscape(displayUserCode(c))
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// deviceEnterCode is POST /device/code: the code typed by the person.
func (s *Server) deviceEnterCode(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.begin(w, r)
	if !ok {
		return
	}
	code := codeForForm(r.PostForm.Get("user_code"))
	if pr.user == nil {
		s.signInPage(w, http.StatusOK, pr, code, "", "")
		return
	}
	s.confirmPage(w, r, pr, code, "")
}
