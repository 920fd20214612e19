package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// A problem is an RFC 9457 error of the REST API. Clients branch on Code.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`

	retryAfter time.Duration
}

func (p *problem) Error() string { return p.Code + ": " + p.Detail }

// problemStatus is every problem code the server emits, with its status. The
// contract test checks it against the table in docs/api.md.
var problemStatus = map[string]int{
	"invalid_request":        400,
	"unauthenticated":        401,
	"token_expired":          401,
	"token_revoked":          401,
	"team_forbidden":         403,
	"second_factor_required": 403,
	"manager_required":       403,
	"team_not_found":         404,
	"token_not_found":        404,
	"not_found":              404,
	"method_not_allowed":     405,
	"body_too_large":         413,
	"invalid_name":           422,
	"invalid_client_type":    422,
	"agent_type_reserved":    422,
	"invalid_expiry":         422,
	"invalid_code":           422,
	"code_already_used":      422,
	"idempotency_key_reused": 422,
	"rate_limited":           429,
	"internal":               500,
}

// oauthErrors is every RFC 6749 error code the OAuth endpoints emit, with
// its status.
var oauthErrors = map[string]int{
	"invalid_request":        400,
	"invalid_client":         400,
	"invalid_grant":          400,
	"unsupported_grant_type": 400,
	"authorization_pending":  400,
	"slow_down":              400,
	"access_denied":          400,
	"expired_token":          400,
	"rate_limited":           429,
	"internal":               500,
}

// newProblem builds a problem; code must be in problemStatus.
func newProblem(code, detail string) *problem {
	status, ok := problemStatus[code]
	if !ok {
		panic("unregistered problem code " + code)
	}
	return &problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
}

func writeProblem(w http.ResponseWriter, p *problem) {
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(p.retryAfter.Round(time.Second)/time.Second)+1))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

var errInternal = newProblem("internal", "Something went wrong on the server. Try again; if it keeps happening, report it with the time of the request.")

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	retryAfter  time.Duration
}

func writeOAuthError(w http.ResponseWriter, code, description string) {
	writeOAuth(w, &oauthError{Error: code, Description: description})
}

func writeOAuth(w http.ResponseWriter, e *oauthError) {
	status, ok := oauthErrors[e.Error]
	if !ok {
		panic("unregistered OAuth error " + e.Error)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.retryAfter.Round(time.Second)/time.Second)+1))
	}
	writeJSON(w, status, e)
}

// writeJSON answers with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := encodeJSON(v) // the answer types always encode
	writeJSONBody(w, status, data)
}

// encodeJSON is v as JSON, with the newline that ends every answer.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	err := json.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}

var jsonContentType = []string{"application/json"}

// writeJSONBody answers with JSON already encoded.
func writeJSONBody(w http.ResponseWriter, status int, data []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType[:1:1]
	h["Content-Length"] = []string{strconv.Itoa(len(data))}
	w.WriteHeader(status)
	w.Write(data)
}
