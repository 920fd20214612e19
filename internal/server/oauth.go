package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

// A client is a registered OAuth client: it decides the type of the tokens
// it receives.
type client struct {
	Type  movitera.ClientType
	Label string // shown on the confirmation page
}

// clients is the registry of OAuth clients.
var clients = map[string]client{
	"movitera-cli":       {Type: movitera.TypeCLI, Label: "Movitera CLI"},
	"movitera-extension": {Type: movitera.TypeExtension, Label: "Movitera browser extension"},
	"movitera-link":      {Type: movitera.TypeAgent, Label: "Movitera Link"},
}

const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// oauthForm reads the form of an OAuth endpoint; false means an error was
// written.
func oauthForm(w http.ResponseWriter, r *http.Request) bool {
	if err := parseForm(w, r); err != nil {
		if errors.Is(err, errTooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, oauthError{Error: "invalid_request", Description: "The request body is over 64 KiB."})
			return false
		}
		writeOAuthError(w, "invalid_request", "The request body is not a valid form (application/x-www-form-urlencoded).")
		return false
	}
	return true
}

func (s *Server) rateLimitIP(w http.ResponseWriter, r *http.Request) bool {
	if wait, ok := s.limits.reserve(s.now(), bucketOf("req-ip", s.clientNet(r), requestsPerIP)); !ok {
		writeOAuth(w, &oauthError{Error: "rate_limited", Description: "Too many requests from this address. Wait a little, then try again.", retryAfter: wait})
		return false
	}
	return true
}

// deviceAuthorization is POST /oauth/device/code (RFC 8628 §3.1).
func (s *Server) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if !s.rateLimitIP(w, r) || !oauthForm(w, r) {
		return
	}
	cl, ok := clients[r.PostForm.Get("client_id")]
	if !ok {
		writeOAuthError(w, "invalid_client", "Unknown client_id. Registered clients: movitera-cli, movitera-extension, movitera-link.")
		return
	}
	name, bad := "", ""
	if raw := r.PostForm.Get("device_name"); strings.TrimSpace(raw) != "" {
		if name, bad = checkName(raw); bad != "" {
			writeOAuthError(w, "invalid_request", "device_name: "+bad)
			return
		}
	}
	hint := r.PostForm.Get("team")
	if hint != "" && !movitera.ValidTeamSlug(hint) {
		writeOAuthError(w, "invalid_request", "team must be a team slug (lowercase letters, digits and dashes).")
		return
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	deviceCode := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	d := store.DeviceCode{
		DeviceHash: movitera.HashSecret(deviceCode), ClientID: r.PostForm.Get("client_id"), ClientType: cl.Type,
		DeviceName: name, TeamHint: hint, CreatedAt: now, ExpiresAt: now.Add(s.cfg.DeviceCodeTTL),
		Interval: int(s.cfg.PollInterval.Seconds()),
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		d.UserCode = newUserCode()
		if err = s.db.InsertDeviceCode(r.Context(), d); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		s.log.Error("storing a device code", "err", err)
		writeOAuthError(w, "internal", "Something went wrong on the server. Try again.")
		return
	}
	uri := s.publicURL(r) + "/device"
	writeJSON(w, http.StatusOK, deviceAuthResponse{
		DeviceCode: deviceCode, UserCode: displayUserCode(d.UserCode),
		VerificationURI: uri, VerificationURIComplete: uri + "?user_code=" + displayUserCode(d.UserCode),
		ExpiresIn: int(s.cfg.DeviceCodeTTL.Seconds()), Interval: d.Interval,
	})
}

// publicURL is the base of the URLs handed to people: Config.PublicURL, else
// the local address of the connection (the listening socket's, which a
// client cannot choose), with https when the connection is TLS. The Host
// header is never used: anyone can send any.
func (s *Server) publicURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return scheme + a.String()
	}
	return scheme + "127.0.0.1" // a handler called without a connection (tests)
}

// CheckPublicURL validates a public base URL (http or https, a host, no
// query, fragment or user) and returns it without a trailing slash.
func CheckPublicURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("public URL %q: want http(s)://host[:port][/path], such as https://vault.example.com", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// revokeSecret is POST /oauth/revoke (RFC 7009): it revokes a token from its
// secret alone and answers 200 whether or not the token existed.
func (s *Server) revokeSecret(w http.ResponseWriter, r *http.Request) {
	if !s.rateLimitIP(w, r) || !oauthForm(w, r) {
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	if secret == "" {
		writeOAuthError(w, "invalid_request", "The form needs token=<the secret to revoke>.")
		return
	}
	if _, err := movitera.ParseSecret(secret); err == nil {
		if _, err := s.db.RevokeByHash(r.Context(), movitera.HashSecret(secret), s.now()); err != nil {
			s.log.Error("revoking by secret", "err", err)
			writeOAuthError(w, "internal", "Something went wrong on the server. Try again.")
			return
		}
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
