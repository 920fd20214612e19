package server

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

// User codes: 8 letters from an alphabet without vowels (no words) and
// without look-alikes, shown XXXX-XXXX (RFC 8628 §6.1).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	out := make([]byte, 0, 8)
	buf := make([]byte, 16)
	for len(out) < 8 {
		rand.Read(buf)
		for _, c := range buf {
			// 240 = 12*20: rejection keeps the letters uniform.
			if c < 240 && len(out) < 8 {
				out = append(out, userCodeAlphabet[c%20])
			}
		}
	}
	return string(out)
}

func displayUserCode(c string) string { return c[:4] + "-" + c[4:] }

// normalizeUserCode reads a code as a person types it: any case, with or
// without the dash or spaces. ok is false when it cannot be a code.
func normalizeUserCode(s string) (string, bool) {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(s)))
	if len(s) != 8 || strings.Trim(s, userCodeAlphabet) != "" {
		return "", false
	}
	return s, true
}

// tooSoon says whether a poll that came elapsed after the previous one is
// too fast for interval. Clients that poll on a timer (x/oauth2 among them)
// come back a few milliseconds early now and then; a poll is too fast only
// when it is early by more than min(1 s, interval/5).
func tooSoon(elapsed, interval time.Duration) bool {
	return elapsed < interval-min(time.Second, interval/5)
}

type deviceTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Team        string `json:"team"`
	TokenID     string `json:"token_id"`
	ExpiresIn   int    `json:"expires_in,omitempty"`
}

// exchangeDeviceCode is POST /oauth/token with the device code grant (RFC
// 8628 §3.4). The token is created in the same transaction that marks the
// authorization consumed: it is handed out exactly once and its secret is
// never stored.
func (s *Server) exchangeDeviceCode(w http.ResponseWriter, r *http.Request) {
	if !oauthForm(w, r) {
		return
	}
	f := r.PostForm
	switch g := f.Get("grant_type"); {
	case g == "":
		writeOAuthError(w, "invalid_request", "The form needs grant_type="+deviceGrant+".")
		return
	case g != deviceGrant:
		writeOAuthError(w, "unsupported_grant_type", "This server supports only grant_type="+deviceGrant+".")
		return
	}
	if _, ok := clients[f.Get("client_id")]; !ok {
		writeOAuthError(w, "invalid_client", "Unknown client_id. Registered clients: movitera-cli, movitera-extension, movitera-link.")
		return
	}
	code := f.Get("device_code")
	if code == "" {
		writeOAuthError(w, "invalid_request", "The form needs the device_code from /oauth/device/code.")
		return
	}
	ctx := r.Context()
	now := s.now()
	var result *oauthError
	var resp deviceTokenResponse
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		result = nil
		d, err := tx.DeviceByHash(ctx, movitera.HashSecret(code))
		if errors.Is(err, store.ErrNotFound) {
			result = &oauthError{Error: "invalid_grant", Description: "Unknown device code. Start again with \"movitera login\"."}
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case d.ClientID != f.Get("client_id"):
			result = &oauthError{Error: "invalid_grant", Description: "This device code was issued to another client."}
			return nil
		case d.Status == store.DeviceConsumed:
			result = &oauthError{Error: "invalid_grant", Description: "This device code was already exchanged for a token. Start again with \"movitera login\"."}
			return nil
		case !now.Before(d.ExpiresAt):
			result = &oauthError{Error: "expired_token", Description: "The code expired before it was approved. Start again with \"movitera login\"."}
			return nil
		}
		interval := d.Interval
		if d.LastPollAt != nil && tooSoon(now.Sub(*d.LastPollAt), time.Duration(d.Interval)*time.Second) {
			interval += 5 // RFC 8628 §3.5: the client must add 5 seconds
			result = &oauthError{Error: "slow_down", Description: "Polling too fast: wait the interval, plus 5 seconds, between requests."}
		}
		if err := tx.RecordPoll(ctx, d.DeviceHash, now, interval); err != nil || result != nil {
			return err
		}
		switch d.Status {
		case store.DevicePending:
			result = &oauthError{Error: "authorization_pending", Description: "Waiting for the person to approve the code in the browser."}
			return nil
		case store.DeviceDenied:
			result = &oauthError{Error: "access_denied", Description: "The sign-in was denied in the browser."}
			return nil
		}
		if _, err := tx.Role(ctx, d.UserID, d.TeamID); errors.Is(err, store.ErrNotFound) {
			result = &oauthError{Error: "access_denied", Description: "The person who approved is no longer a member of the team."}
			return nil
		} else if err != nil {
			return err
		}
		name := d.DeviceName
		if name == "" {
			name = d.ClientID + " device"
		}
		row, secret, err := s.insertToken(ctx, tx, d.TeamID, d.UserID, name, d.ClientType, deviceTokenDays, now)
		if err != nil {
			return err
		}
		if ok, err := tx.ConsumeDevice(ctx, d.DeviceHash, row.ID); err != nil || !ok {
			return errors.Join(err, errors.New("device code changed during the exchange"))
		}
		resp = deviceTokenResponse{AccessToken: secret, TokenType: "Bearer", Team: row.Team, TokenID: row.ID,
			ExpiresIn: deviceTokenDays * 24 * 60 * 60}
		return nil
	})
	switch {
	case err != nil:
		s.log.Error("exchanging a device code", "err", err)
		writeOAuthError(w, "internal", "Something went wrong on the server. Poll again.")
	case result != nil:
		writeOAuth(w, result)
	default:
		writeJSON(w, http.StatusOK, resp)
	}
}
