package server

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

// userResponse is GET /api/v1/user.
type userResponse struct {
	User  movitera.User   `json:"user"`
	Teams []movitera.Team `json:"teams"`
	Token movitera.Token  `json:"token"`
}

// getUser answers with the caller's user, teams and token. The encoded
// answer is kept on the cached caller (see authCache) and encoded again only
// when the token's shown last use moves to the next second.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) *problem {
	c := callerOf(r)
	tok := s.apiToken(c.token)
	var lastUsed time.Time
	if tok.LastUsedAt != nil {
		lastUsed = *tok.LastUsedAt
	}
	if b := c.userBody.Load(); b != nil && b.lastUsed.Equal(lastUsed) {
		writeJSONBody(w, http.StatusOK, b.data)
		return nil
	}
	gen := s.db.Generation()
	teams, ok := s.auth.teamsOf(gen, c.user.ID)
	if !ok {
		var err error
		if teams, err = s.db.TeamsOf(r.Context(), c.user.ID); err != nil {
			return s.internal(r, err)
		}
		s.auth.putTeams(gen, c.user.ID, teams)
	}
	data, err := encodeJSON(userResponse{User: c.user.User, Teams: teams, Token: tok})
	if err != nil {
		return s.internal(r, err)
	}
	c.userBody.Store(&userBody{lastUsed: lastUsed, data: data})
	writeJSONBody(w, http.StatusOK, data)
	return nil
}

// userBody is an encoded GET /api/v1/user answer and the last use of the
// token it shows.
type userBody struct {
	lastUsed time.Time
	data     []byte
}

// tokenPage is GET /api/v1/teams/{team}/tokens.
type tokenPage struct {
	Tokens     []movitera.Token `json:"tokens"`
	NextCursor *string          `json:"next_cursor"`
}

const (
	defaultPageSize = 100
	maxPageSize     = 500
)

// validTokenID is ^tok_[0-9a-f]{16}$.
func validTokenID(s string) bool {
	if len(s) != 20 || s[:4] != "tok_" {
		return false
	}
	for i := 4; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) *problem {
	team, p := s.teamOf(r)
	if p != nil {
		return p
	}
	q := r.URL.Query()
	lq := store.ListQuery{TeamID: team.ID, Limit: defaultPageSize}
	switch v := q.Get("include_revoked"); v {
	case "", "false":
	case "true":
		lq.IncludeRevoked = true
	default:
		return newProblem("invalid_request", "include_revoked must be true or false, not \""+printable(v)+"\".")
	}
	if v := q.Get("type"); v != "" {
		if !movitera.ClientType(v).Valid() {
			return newProblem("invalid_request", "type must be one of cli, sdk, extension, agent, other, not \""+printable(v)+"\".")
		}
		lq.Type = movitera.ClientType(v)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return newProblem("invalid_request", "limit must be a whole number from 1 to 500, not \""+printable(v)+"\".")
		}
		lq.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		cur, ok := decodeCursor(v)
		if !ok {
			return newProblem("invalid_request", "The cursor is not one this server issued. Start again from the first page, without cursor.")
		}
		lq.After = &cur
	}
	want := lq.Limit
	lq.Limit++ // one more tells whether there is a next page
	rows, err := s.db.ListTokens(r.Context(), lq)
	if err != nil {
		return s.internal(r, err)
	}
	page := tokenPage{Tokens: make([]movitera.Token, 0, len(rows))}
	if len(rows) > want {
		rows = rows[:want]
		next := encodeCursor(rows[want-1].CursorAfter())
		page.NextCursor = &next
	}
	for _, t := range rows {
		page.Tokens = append(page.Tokens, s.apiToken(t))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func encodeCursor(c store.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + strconv.FormatInt(c.CreatedAt, 10) + ":" + c.ID))
}

func decodeCursor(s string) (store.Cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.Cursor{}, false
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != "v1" || !validTokenID(parts[2]) {
		return store.Cursor{}, false
	}
	n, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || n < 0 {
		return store.Cursor{}, false
	}
	return store.Cursor{CreatedAt: n, ID: parts[2]}, true
}

// revokeResponse is DELETE /api/v1/teams/{team}/tokens/{id}.
type revokeResponse struct {
	Token movitera.Token `json:"token"`
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) *problem {
	team, p := s.teamOf(r)
	if p != nil {
		return p
	}
	id := r.PathValue("id")
	t, _, err := s.db.RevokeToken(r.Context(), team.ID, id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return newProblem("token_not_found", "Team \""+team.Slug+"\" has no token \""+printable(id)+"\". Run \"movitera tokens list\" to see its tokens.")
	}
	if err != nil {
		return s.internal(r, err)
	}
	writeJSON(w, http.StatusOK, revokeResponse{Token: s.apiToken(t)})
	return nil
}

type bulkRevokeRequest struct {
	IDs []string `json:"ids"`
}

type bulkResult struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Token  *movitera.Token `json:"token"`
}

type bulkRevokeResponse struct {
	Results []bulkResult `json:"results"`
}

func (s *Server) revokeTokens(w http.ResponseWriter, r *http.Request) *problem {
	team, p := s.teamOf(r)
	if p != nil {
		return p
	}
	var req bulkRevokeRequest
	if p := decodeJSON(w, r, &req); p != nil {
		return p
	}
	if len(req.IDs) < 1 || len(req.IDs) > maxPageSize {
		return newProblem("invalid_request", "ids must list 1 to 500 token ids.")
	}
	now := s.now()
	resp := bulkRevokeResponse{Results: make([]bulkResult, 0, len(req.IDs))}
	err := s.db.InTx(r.Context(), func(tx *store.Tx) error {
		resp.Results = resp.Results[:0]
		for _, id := range req.IDs {
			res := bulkResult{ID: id, Status: "not_found"}
			t, changed, err := tx.RevokeToken(r.Context(), team.ID, id, now)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			default:
				res.Status = "already_revoked"
				if changed {
					res.Status = "revoked"
				}
				api := s.apiToken(t)
				res.Token = &api
			}
			resp.Results = append(resp.Results, res)
		}
		return nil
	})
	if err != nil {
		return s.internal(r, err)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
