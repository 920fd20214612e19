package server

import "net/http"

// catchAll is the pattern of the route that answers what no other matches.
const catchAll = "/"

// routes is the whole surface of docs/api.md.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// OAuth 2.0: device authorization (RFC 8628) and revocation (RFC 7009).
	mux.HandleFunc("POST /oauth/device/code", s.deviceAuthorization)
	mux.HandleFunc("POST /oauth/token", s.exchangeDeviceCode)
	mux.HandleFunc("POST /oauth/revoke", s.revokeSecret)
	// The authorization pages.
	mux.HandleFunc("GET /device", s.devicePage)
	mux.HandleFunc("POST /device/login", s.deviceLogin)
	mux.HandleFunc("POST /device/code", s.deviceEnterCode)
	mux.HandleFunc("POST /device/approve", s.deviceApprove)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/device", http.StatusSeeOther)
	})
	// The REST API.
	mux.HandleFunc("GET /api/v1/user", s.authenticate(s.getUser))
	mux.HandleFunc("POST /api/v1/second-factor", s.authenticate(s.confirmSecondFactor))
	mux.HandleFunc("GET /api/v1/teams/{team}/tokens", s.authenticate(s.listTokens))
	mux.HandleFunc("POST /api/v1/teams/{team}/tokens", s.authenticate(s.createToken))
	mux.HandleFunc("DELETE /api/v1/teams/{team}/tokens/{id}", s.authenticate(s.revokeToken))
	mux.HandleFunc("POST /api/v1/teams/{team}/tokens/revoke", s.authenticate(s.revokeTokens))
	mux.HandleFunc(catchAll, s.unrouted(mux))
	return s.logRequests(secure(mux))
}
