package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

// The browser session of the authorization pages lives in this cookie. The
// server keeps only the SHA-256 of its value, with the session's CSRF token
// and, once signed in, the user.
const sessionCookie = "movitera_session"

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
	return s.startSession(w, r, "")
}

// startSession creates a session with a new id and CSRF token and sets its
// cookie. Signing in starts a new one, so an id seen before sign-in is
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
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil, MaxAge: int(sessionTTL.Seconds()),
	})
	return sess, nil
}

// validCSRF reports whether the form's csrf_token is the session's.
func validCSRF(r *http.Request, sess *store.Session) bool {
	got := r.PostForm.Get("csrf_token")
	return sess != nil && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}
