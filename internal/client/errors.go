package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APIError is an RFC 9457 problem from the server. Code is stable; Detail
// is the server's sentence for people.
type APIError struct {
	Status     int           `json:"status"`
	Code       string        `json:"code"`
	Title      string        `json:"title"`
	Detail     string        `json:"detail"`
	RetryAfter time.Duration `json:"-"`
	// Challenge is the WWW-Authenticate header of a 401 (RFC 6750).
	Challenge string `json:"-"`
}

// TokenRefused reports whether the server refused a bearer token the
// request carried (RFC 6750's error="invalid_token": unknown, revoked,
// expired or malformed), as opposed to a request that reached it without
// one — a proxy may drop the Authorization header on the way.
func (e *APIError) TokenRefused() bool {
	return e.Status == http.StatusUnauthorized && strings.Contains(e.Challenge, `error="invalid_token"`)
}

// Problem codes the CLI acts on (docs/api.md lists them all).
const (
	CodeUnauthenticated      = "unauthenticated"
	CodeTokenExpired         = "token_expired"
	CodeTokenRevoked         = "token_revoked"
	CodeTeamForbidden        = "team_forbidden"
	CodeSecondFactorRequired = "second_factor_required"
	CodeManagerRequired      = "manager_required"
	CodeTeamNotFound         = "team_not_found"
	CodeTokenNotFound        = "token_not_found"
	CodeInvalidCode          = "invalid_code"
	CodeCodeAlreadyUsed      = "code_already_used"
	CodeRateLimited          = "rate_limited"
)

// hints say what to do next, per code, after the server's own sentence.
var hints = map[string]string{
	CodeUnauthenticated:      "sign in with 'movitera login', or set MOVITERA_TOKEN to a valid token",
	CodeTokenExpired:         "this credential has expired: sign in again with 'movitera login'",
	CodeTokenRevoked:         "this credential was revoked: sign in again with 'movitera login'",
	CodeTeamForbidden:        "a token acts on its own team only: run 'movitera teams switch SLUG' or 'movitera login --team SLUG'",
	CodeSecondFactorRequired: "confirm with a code from your authenticator app: pass --otp CODE or set MOVITERA_OTP",
	CodeManagerRequired:      "only vault managers may create tokens that never expire: choose --expires between 7d and 365d",
	CodeTeamNotFound:         "list your teams with 'movitera teams list'",
	CodeTokenNotFound:        "list the team's tokens with 'movitera tokens list'",
	CodeRateLimited:          "wait a moment and try again",
}

func (e *APIError) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = fmt.Sprintf("the server answered %d %s", e.Status, http.StatusText(e.Status))
	}
	msg = strings.TrimSuffix(msg, ".")
	// The server's detail already says what to do; the CLI's hint stands
	// in only when it sent none.
	if h, ok := hints[e.Code]; ok && e.Detail == "" {
		msg += "; " + h
	}
	return msg
}

// ExitCode is 4 for a credential the server does not accept, and for a
// second factor that is needed, wrong or already used.
func (e *APIError) ExitCode() int {
	switch e.Code {
	case CodeUnauthenticated, CodeTokenExpired, CodeTokenRevoked,
		CodeSecondFactorRequired, CodeInvalidCode, CodeCodeAlreadyUsed:
		return 4
	}
	return 1
}

// IsAuth reports whether the server refused the credential itself.
func (e *APIError) IsAuth() bool {
	switch e.Code {
	case CodeUnauthenticated, CodeTokenExpired, CodeTokenRevoked:
		return true
	}
	return false
}

func problemFrom(resp *http.Response, body []byte) error {
	e := &APIError{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header), Challenge: resp.Header.Get("WWW-Authenticate")}
	ct := resp.Header.Get("Content-Type")
	if strings.Contains(ct, "json") {
		_ = json.Unmarshal(body, e)
		e.Status = resp.StatusCode
	}
	if e.Code == "" {
		e.Code = fmt.Sprintf("http_%d", resp.StatusCode)
		switch {
		case resp.StatusCode == http.StatusNotFound:
			e.Detail = fmt.Sprintf("the server at %s has no such endpoint: is it a movitera vault?", resp.Request.URL.Host)
		default:
			if d, ok := SpeaksHTTPS(resp.Request.URL, resp.StatusCode, body); ok {
				e.Detail = d
			}
		}
	}
	return e
}

// SpeaksHTTPS recognises the answer of an HTTPS server to a plain http://
// request (Go's servers answer 400 with a fixed text) and says what to do.
func SpeaksHTTPS(u *url.URL, status int, body []byte) (string, bool) {
	if u == nil || u.Scheme != "http" || status != http.StatusBadRequest || !bytes.Contains(body, []byte("HTTP request to an HTTPS server")) {
		return "", false
	}
	return fmt.Sprintf("the server at %s speaks HTTPS: use https://%s as the server address (--server, MOVITERA_SERVER)", u.Host, u.Host), true
}
