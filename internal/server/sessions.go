package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

// The browser session of the authorization pages lives in this cookie. The
// server keeps only the SHA-256 of its value, with the session's CSRF token
// and, once signed in, the user.
//
// Until someone signs in the session is anonymous and the server keeps
// nothing: the cookie is "anon.<id>.<expiry>.<mac>", signed with a key
// derived from the server key, and its CSRF token is derived from it. So a
// visit costs no database row, however many there are.
const sessionCookie = "movitera_session"

const anonPrefix = "anon."

// anonymousTTL is the lifetime of an anonymous session: time to sign in.
const anonymousTTL = 30 * time.Minute

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// currentSession is the session of the request's cookie, or nil.
func (s *Server) currentSession(r *http.Request) (*store.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	if strings.HasPrefix(c.Value, anonPrefix) {
		return s.anonymousSession(c.Value), nil
	}
	sess, err := s.db.SessionByHash(r.Context(), movitera.HashSecret(c.Value), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return sess, err
}

// ensureSession returns the request's session, starting an anonymous one on
// first visit.
func (s *Server) ensureSession(w http.ResponseWriter, r *http.Request) (*store.Session, error) {
	sess, err := s.currentSession(r)
	if err != nil || sess != nil {
		return sess, err
	}
	return s.startAnonymous(w, r), nil
}

// anonMAC signs the part of an anonymous cookie before its MAC.
func (s *Server) anonMAC(body string) string {
	return base64.RawURLEncoding.EncodeToString(s.key.mac("anonymous session", body)[:16])
}

// secureCookies reports whether session cookies are marked Secure: when
// the server serves HTTPS itself, and when browsers reach it over HTTPS
// through a TLS-terminating reverse proxy (an https:// --public-url), where
// the request that reaches the server is plain HTTP.
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https://")
}

// startAnonymous sets a new anonymous session's cookie; nothing is stored.
func (s *Server) startAnonymous(w http.ResponseWriter, r *http.Request) *store.Session {
	id := make([]byte, 16)
	rand.Read(id)
	exp := s.now().Add(anonymousTTL).Truncate(time.Second)
	body := anonPrefix + base64.RawURLEncoding.EncodeToString(id) + "." + strconv.FormatInt(exp.Unix(), 10)
	value := body + "." + s.anonMAC(body)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(r), MaxAge: int(anonymousTTL.Seconds()),
	})
	return s.anonymousSession(value)
}

// anonymousSession is the session of an anonymous cookie, or nil when it is
// forged, malformed or expired.
func (s *Server) anonymousSession(value string) *store.Session {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return nil
	}
	body, mac := value[:i], value[i+1:]
	if subtle.ConstantTimeCompare([]byte(mac), []byte(s.anonMAC(body))) != 1 {
		return nil
	}
	j := strings.LastIndexByte(body, '.')
	unix, err := strconv.ParseInt(body[j+1:], 10, 64)
	if err != nil {
		return nil
	}
	exp := time.Unix(unix, 0).UTC()
	if !s.now().Before(exp) {
		return nil
	}
	return &store.Session{
		IDHash:    movitera.HashSecret(value),
		CSRF:      base64.RawURLEncoding.EncodeToString(s.key.mac("anonymous csrf", value)),
		CreatedAt: exp.Add(-anonymousTTL), ExpiresAt: exp,
	}
}

// startSession creates a signed-in session with a new id and CSRF token and
// sets its cookie. Signing in starts a new one, so an id seen before sign-in is
// worthless after.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID string) (*store.Session, error) {
	id := randomToken()
	now := s.now()
	sess := &store.Session{
		IDHash: movitera.HashSecret(id), CSRF: randomToken(), UserID: userID,
		CreatedAt: now, ExpiresAt: now.Add(sessionTTL),
	}
	if err := s.db.InsertSession(r.Context(), *sess); err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(r), MaxAge: int(sessionTTL.Seconds()),
	})
	return sess, nil
}

// validCSRF reports whether the form's csrf_token is the session's.
func validCSRF(r *http.Request, sess *store.Session) bool {
	got := r.PostForm.Get("csrf_token")
	return sess != nil && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}
