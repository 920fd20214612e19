package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

type createRequest struct {
	Name          *string         `json:"name"`
	ClientType    *string         `json:"client_type"`
	ExpiresInDays json.RawMessage `json:"expires_in_days"`
}

// createResponse is the 201 of a create; it is also what an
// Idempotency-Key replays.
type createResponse struct {
	Token  movitera.Token `json:"token"`
	Secret string         `json:"secret"`
}

const maxIdempotencyKey = 255

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) *problem {
	c := callerOf(r)
	team, p := s.teamOf(r)
	if p != nil {
		return p
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return newProblem("invalid_request", "The Idempotency-Key header is over 255 characters. Use a shorter key, such as a UUID.")
	}
	var req createRequest
	if p := decodeJSON(w, r, &req); p != nil {
		return p
	}
	name, typ, days, p := validateCreate(req)
	if p != nil {
		return p
	}
	reqHash := sha256.Sum256([]byte(team.Slug + "\x00" + name + "\x00" + string(typ) + "\x00" + strconv.Itoa(days)))
	ctx := r.Context()
	now := s.now()
	var resp createResponse
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if key != "" {
			it, err := tx.GetIdempotent(ctx, c.token.ID, key, now.Add(-idempotencyTTL))
			switch {
			case err == nil:
				if it.RequestHash != hex.EncodeToString(reqHash[:]) {
					return newProblem("idempotency_key_reused", "This Idempotency-Key was already used for a different request. Use a new key for a new token.")
				}
				plain, err := s.key.open(it.Sealed, c.token.ID+"\x00"+key)
				if err != nil {
					return err
				}
				if err := json.Unmarshal(plain, &resp); err != nil {
					return err
				}
				// The secret is the stored one; the token is as it is now
				// (revoked, used since), never the first answer's snapshot.
				row, err := tx.TokenByID(ctx, team.ID, resp.Token.ID)
				if err != nil {
					return err
				}
				resp.Token = s.apiToken(row)
				return nil
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		if days == 0 && c.role != movitera.RoleManager {
			return newProblem("manager_required", "Only vault managers of team \""+team.Slug+"\" may create tokens that never expire. Choose an expiry from 7 to 365 days.")
		}
		if c.token.SecondFactorUntil == nil || !now.Before(*c.token.SecondFactorUntil) {
			return newProblem("second_factor_required", "Creating a token needs a recent second-factor confirmation. Confirm with a code from your authenticator app (POST /api/v1/second-factor, or \"movitera tokens create --otp CODE\"), then try again.")
		}
		row, secret, err := s.insertToken(ctx, tx, team.ID, c.user.ID, name, typ, days, now)
		if err != nil {
			return err
		}
		resp = createResponse{Token: s.apiToken(row), Secret: secret}
		if key != "" {
			plain, err := json.Marshal(resp)
			if err != nil {
				return err
			}
			return tx.PutIdempotent(ctx, c.token.ID, key, store.Idempotent{
				RequestHash: hex.EncodeToString(reqHash[:]),
				Sealed:      s.key.seal(plain, c.token.ID+"\x00"+key),
				CreatedAt:   now,
			})
		}
		return nil
	})
	var prob *problem
	if errors.As(err, &prob) {
		return prob
	}
	if err != nil {
		return s.internal(r, err)
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// validateCreate checks a create request. days is 0 for never.
func validateCreate(req createRequest) (string, movitera.ClientType, int, *problem) {
	if req.Name == nil {
		return "", "", 0, newProblem("invalid_name", "The token needs a name (1 to 100 characters), such as \"meu macbook · cli\".")
	}
	name, bad := checkName(*req.Name)
	if bad != "" {
		return "", "", 0, newProblem("invalid_name", bad)
	}
	if req.ClientType == nil {
		return "", "", 0, newProblem("invalid_client_type", "The token needs a client_type: one of cli, sdk, extension, other.")
	}
	typ := movitera.ClientType(*req.ClientType)
	switch {
	case typ == movitera.TypeAgent:
		return "", "", 0, newProblem("agent_type_reserved", "Agent tokens are created by Movitera Link only. Choose one of cli, sdk, extension, other.")
	case !typ.Valid():
		return "", "", 0, newProblem("invalid_client_type", "Unknown client type \""+printable(*req.ClientType)+"\". Choose one of cli, sdk, extension, other.")
	}
	raw := bytes.TrimSpace(req.ExpiresInDays)
	if len(raw) == 0 {
		return "", "", 0, newProblem("invalid_expiry", "The token needs expires_in_days: a number of days from 7 to 365, or null for never (vault managers only).")
	}
	if string(raw) == "null" {
		return name, typ, 0, nil
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil || raw[0] == '"' {
		return "", "", 0, newProblem("invalid_request", "expires_in_days must be a number or null.")
	}
	days, err := strconv.Atoi(n.String())
	if err != nil || movitera.CheckExpiryDays(days) != nil {
		return "", "", 0, newProblem("invalid_expiry", "expires_in_days must be a whole number of days from 7 to 365 (got "+n.String()+"). Managers may send null for a token that never expires.")
	}
	return name, typ, days, nil
}

// checkName trims a token name and checks it: 1 to 100 characters, no
// control characters, and at least one visible character (a letter, number,
// symbol or punctuation): a name made only of zero-width, format or
// combining characters shows as nothing in a list. bad, when not empty,
// says what is wrong.
func checkName(s string) (name, bad string) {
	name = strings.TrimSpace(s)
	if name == "" {
		return "", "The token name is empty. Give it a name of 1 to 100 characters, such as \"meu macbook · cli\"."
	}
	if !utf8.ValidString(name) {
		return "", "The token name is not valid UTF-8. Use plain text."
	}
	if utf8.RuneCountInString(name) > 100 {
		return "", "The token name is over 100 characters. Use a shorter name."
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return "", "The token name has control characters. Use letters, digits, spaces and punctuation only."
		}
	}
	if strings.IndexFunc(name, visible) < 0 {
		return "", "The token name has no visible character. Give it a name people can read, such as \"meu macbook · cli\"."
	}
	return name, ""
}

// visible is a letter, number, symbol or punctuation character.
func visible(r rune) bool {
	return unicode.In(r, unicode.L, unicode.N, unicode.S, unicode.P)
}

// insertToken creates a token in tx and returns it with its secret, which is
// not stored. days is 0 for a token that never expires.
func (s *Server) insertToken(ctx context.Context, tx *store.Tx, teamID int64, userID, name string,
	typ movitera.ClientType, days int, now time.Time) (*store.TokenRow, string, error) {
	for attempt := 0; ; attempt++ {
		secret, err := movitera.NewSecret(typ)
		if err != nil {
			return nil, "", err
		}
		nt := store.NewToken{
			ID: newID("tok_"), TeamID: teamID, UserID: userID, Name: name, ClientType: typ,
			Prefix: movitera.DisplayPrefix(secret), SecretHash: movitera.HashSecret(secret), CreatedAt: now,
		}
		if days > 0 {
			exp := now.Truncate(time.Second).Add(time.Duration(days) * 24 * time.Hour)
			nt.ExpiresAt = &exp
		}
		err = tx.InsertToken(ctx, nt)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		row, err := tx.TokenByID(ctx, teamID, nt.ID)
		return row, secret, err
	}
}

// newID is a prefix and 16 lowercase hex characters.
func newID(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
