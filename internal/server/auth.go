package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

// caller is who a REST request comes from: the bearer token, its user and
// the user's current role in the token's team.
type caller struct {
	token *store.TokenRow
	user  *store.User
	role  movitera.Role

	// userBody is the last GET /api/v1/user answer for this caller. A
	// caller lives for one generation of the cache, so what the answer
	// shows (user, teams, token) cannot change under it except the
	// token's last use, which userBody records.
	userBody atomic.Pointer[userBody]
}

type callerKey struct{}

func callerOf(r *http.Request) *caller { return r.Context().Value(callerKey{}).(*caller) }

// authenticate checks the bearer token on every request: its format and
// checksum first (no database look-up for noise), then by the hash of the
// secret, then revocation, expiry and team membership. What the check reads
// is cached until the next write the server commits (see authCache).
func (s *Server) authenticate(next func(http.ResponseWriter, *http.Request) *problem) http.HandlerFunc {
	return s.api(func(w http.ResponseWriter, r *http.Request) *problem {
		c, p := s.authorize(r)
		if p != nil {
			if p.Status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", bearerChallenge(r))
			}
			return p
		}
		return next(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	})
}

// bearerChallenge is the WWW-Authenticate of a 401 (RFC 6750 §3): the realm
// alone when the request carried no bearer token, with
// error="invalid_token" when it carried one that was refused (unknown,
// malformed, revoked or expired).
func bearerChallenge(r *http.Request) string {
	if _, ok := bearerOf(r); !ok {
		return `Bearer realm="movitera"`
	}
	return `Bearer realm="movitera", error="invalid_token"`
}

// bearerOf is the token of an "Authorization: Bearer" header; ok is false
// when the request has none.
func bearerOf(r *http.Request) (secret string, ok bool) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	secret = strings.TrimSpace(secret)
	return secret, secret != ""
}

func (s *Server) authorize(r *http.Request) (*caller, *problem) {
	secret, ok := bearerOf(r)
	if !ok {
		return nil, newProblem("unauthenticated", "This request has no access token. Sign in with \"movitera login\" or set MOVITERA_TOKEN.")
	}
	if _, err := movitera.ParseSecret(secret); err != nil {
		return nil, newProblem("unauthenticated", "The access token is not a valid Movitera token (its checksum does not match). Check that it was copied whole, or sign in again.")
	}
	ctx := r.Context()
	hash := movitera.HashSecret(secret)
	gen := s.db.Generation() // before any read: see authCache
	if c := s.auth.caller(gen, hash); c != nil {
		noteToken(r, c.token.ID)
		now := s.now()
		if c.token.StateAt(now) == movitera.StateExpired {
			return nil, newProblem("token_expired", "This access token has expired. Sign in again with \"movitera login\" or create a new token.")
		}
		s.usage.record(c.token.ID, now)
		return c, nil
	}
	tok, err := s.db.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newProblem("unauthenticated", "The server does not know this access token. Sign in again with \"movitera login\" or use another token.")
	}
	if err != nil {
		return nil, s.internal(r, err)
	}
	noteToken(r, tok.ID) // refused or not: a revoked token still in use is worth tracing
	now := s.now()
	switch tok.StateAt(now) {
	case movitera.StateRevoked:
		return nil, newProblem("token_revoked", "This access token was revoked. Sign in again with \"movitera login\" or create a new token.")
	case movitera.StateExpired:
		return nil, newProblem("token_expired", "This access token has expired. Sign in again with \"movitera login\" or create a new token.")
	}
	user, err := s.db.UserByID(ctx, tok.UserID)
	if err != nil {
		return nil, s.internal(r, err)
	}
	role, err := s.db.Role(ctx, tok.UserID, tok.TeamID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newProblem("team_forbidden", "The owner of this access token is no longer a member of team \""+tok.Team+"\". Ask a vault manager of the team to add you back.")
	}
	if err != nil {
		return nil, s.internal(r, err)
	}
	s.usage.record(tok.ID, now)
	c := &caller{token: tok, user: user, role: role}
	s.auth.putCaller(gen, hash, c)
	return c, nil
}

// teamOf resolves the {team} of the path and checks that the calling token
// belongs to it.
func (s *Server) teamOf(r *http.Request) (*store.TeamRow, *problem) {
	c := callerOf(r)
	slug := r.PathValue("team")
	team, err := s.db.TeamBySlug(r.Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newProblem("team_not_found", "There is no team \""+printable(slug)+"\". Run \"movitera teams list\" to see your teams.")
	}
	if err != nil {
		return nil, s.internal(r, err)
	}
	if team.ID != c.token.TeamID {
		return nil, newProblem("team_forbidden", "This access token belongs to team \""+c.token.Team+"\" and cannot act on team \""+team.Slug+"\". Switch team (\"movitera teams switch "+team.Slug+"\") or use a token of that team.")
	}
	return team, nil
}

// apiToken is a stored token as the API shows it: pending last use applied,
// times in UTC to the second.
func (s *Server) apiToken(t *store.TokenRow) movitera.Token {
	out := t.Token
	s.usage.overlay(&out)
	sec := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		v := p.UTC().Truncate(time.Second)
		return &v
	}
	out.CreatedAt = out.CreatedAt.UTC().Truncate(time.Second)
	out.LastUsedAt, out.ExpiresAt, out.RevokedAt = sec(out.LastUsedAt), sec(out.ExpiresAt), sec(out.RevokedAt)
	return out
}

// printable neutralises control characters in text echoed back to people.
func printable(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
