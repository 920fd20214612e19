package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/movitera/movitera/internal/store"
)

// TOTP as authenticator apps do it: 6 digits, SHA-1, 30-second steps; one
// step of skew either side is accepted.
const totpPeriod = 30

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// TOTPCode is the code an authenticator app shows at t for a base32 secret
// (as in dev-credentials.json). Test harnesses use it to sign in.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

// Outcomes of checkTOTP besides success.
var (
	errWrongCode = errors.New("wrong code")
	errUsedCode  = errors.New("code already used")
)

// checkTOTP verifies a user's code and records its time step, so that a code
// is accepted once per user (wherever it is used: sign-in page or API).
func (s *Server) checkTOTP(ctx context.Context, user *store.User, code string, now time.Time) error {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return errWrongCode
	}
	plain, err := s.key.open(user.TOTPSealed, "totp\x00"+user.ID)
	if err != nil {
		return err
	}
	secret := string(plain)
	step := totpStep(now)
	// ValidateCustom does not say which step matched; check them one by one
	// (same options), the current one first.
	for _, st := range []int64{step, step - 1, step + 1} {
		ok, err := hotp.ValidateCustom(code, uint64(st), secret, hotp.ValidateOpts{Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
		if err != nil || !ok {
			continue
		}
		err = s.db.UseTOTPStep(ctx, user.ID, st, now, step-int64(totpOpts.Skew)-1)
		if errors.Is(err, store.ErrConflict) {
			return errUsedCode
		}
		return err
	}
	return errWrongCode
}

type secondFactorRequest struct {
	Code string `json:"code"`
}

type secondFactorResponse struct {
	ConfirmedUntil time.Time `json:"confirmed_until"`
}

func (s *Server) confirmSecondFactor(w http.ResponseWriter, r *http.Request) *problem {
	c := callerOf(r)
	var req secondFactorRequest
	if p := decodeJSON(w, r, &req); p != nil {
		return p
	}
	now := s.now()
	keys := []keyed{bucketOf("user", c.user.ID, failuresPerUser), bucketOf("ip", s.clientNet(r), failuresPerIP)}
	// The attempt is taken before the check and given back on success.
	if wait, ok := s.limits.reserve(now, keys...); !ok {
		p := newProblem("rate_limited", "Too many wrong codes. Wait a minute, then try again with the code your authenticator app shows.")
		p.retryAfter = wait
		return p
	}
	switch err := s.checkTOTP(r.Context(), c.user, req.Code, now); {
	case errors.Is(err, errWrongCode):
		return newProblem("invalid_code", "That code is wrong. Type the 6-digit code your authenticator app shows now.")
	case errors.Is(err, errUsedCode):
		return newProblem("code_already_used", "That code was already used. Wait for your authenticator app to show the next code, then try again.")
	case err != nil:
		s.limits.refund(now, keys...)
		return s.internal(r, err)
	}
	s.limits.refund(now, keys...)
	until := now.Add(secondFactorWindow).Truncate(time.Second)
	if err := s.db.SetSecondFactor(r.Context(), c.token.ID, until); err != nil {
		return s.internal(r, err)
	}
	writeJSON(w, http.StatusOK, secondFactorResponse{ConfirmedUntil: until})
	return nil
}
