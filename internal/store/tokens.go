package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

// TokenRow is a stored token: the API's object plus what only the server
// sees.
type TokenRow struct {
	movitera.Token
	TeamID            int64
	UserID            string
	SecretHash        string
	SecondFactorUntil *time.Time
	createdNanos      int64
}

// Cursor is a position in a newest-first token list.
type Cursor struct {
	CreatedAt int64 // Unix nanoseconds
	ID        string
}

// CursorAfter is the cursor that continues a list after this row.
func (t TokenRow) CursorAfter() Cursor { return Cursor{CreatedAt: t.createdNanos, ID: t.ID} }

// NewToken is what InsertToken writes.
type NewToken struct {
	ID         string
	TeamID     int64
	UserID     string
	Name       string
	ClientType movitera.ClientType
	Prefix     string
	SecretHash string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
}

// InsertToken stores a new token. ErrConflict means the id or the secret's
// hash is already taken.
func (q queries) InsertToken(ctx context.Context, t NewToken) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO tokens
		(id, team_id, user_id, name, client_type, prefix, secret_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.TeamID, t.UserID, t.Name, string(t.ClientType), t.Prefix, t.SecretHash,
		nanos(t.CreatedAt), optNanos(t.ExpiresAt))
	if isUnique(err) {
		return ErrConflict
	}
	return err
}

const tokenCols = `t.id, t.name, t.client_type, t.prefix, tm.slug, t.created_at, t.last_used_at,
	t.expires_at, t.revoked_at, u.email, t.team_id, t.user_id, t.secret_hash, t.second_factor_until
	FROM tokens t JOIN teams tm ON tm.id = t.team_id JOIN users u ON u.id = t.user_id`

func scanToken(sc interface{ Scan(...any) error }) (*TokenRow, error) {
	var t TokenRow
	var typ string
	var used, exp, rev, sf sql.NullInt64
	err := sc.Scan(&t.ID, &t.Name, &typ, &t.Prefix, &t.Team, &t.createdNanos, &used, &exp, &rev,
		&t.CreatedBy, &t.TeamID, &t.UserID, &t.SecretHash, &sf)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	t.ClientType = movitera.ClientType(typ)
	t.CreatedAt = fromNanos(t.createdNanos)
	t.LastUsedAt, t.ExpiresAt, t.RevokedAt, t.SecondFactorUntil = optTime(used), optTime(exp), optTime(rev), optTime(sf)
	return &t, nil
}

// TokenByHash finds a token by the SHA-256 of its secret (an indexed look-up).
func (q queries) TokenByHash(ctx context.Context, hash string) (*TokenRow, error) {
	return scanToken(q.r.QueryRowContext(ctx, `SELECT `+tokenCols+` WHERE t.secret_hash = ?`, hash))
}

// TokenByID finds a token of a team.
func (q queries) TokenByID(ctx context.Context, teamID int64, id string) (*TokenRow, error) {
	return scanToken(q.r.QueryRowContext(ctx, `SELECT `+tokenCols+` WHERE t.id = ? AND t.team_id = ?`, id, teamID))
}

// ListQuery selects a page of a team's tokens.
type ListQuery struct {
	TeamID         int64
	IncludeRevoked bool
	Type           movitera.ClientType // "" for every type
	After          *Cursor
	Limit          int
}

// ListTokens returns up to Limit tokens, newest first (created_at, then id,
// both descending), after the cursor.
func (q queries) ListTokens(ctx context.Context, lq ListQuery) ([]*TokenRow, error) {
	var where []string
	args := []any{lq.TeamID}
	where = append(where, "t.team_id = ?")
	if !lq.IncludeRevoked {
		where = append(where, "t.revoked_at IS NULL")
	}
	if lq.Type != "" {
		where = append(where, "t.client_type = ?")
		args = append(args, string(lq.Type))
	}
	if lq.After != nil {
		where = append(where, "(t.created_at < ? OR (t.created_at = ? AND t.id < ?))")
		args = append(args, lq.After.CreatedAt, lq.After.CreatedAt, lq.After.ID)
	}
	args = append(args, lq.Limit)
	rows, err := q.r.QueryContext(ctx, `SELECT `+tokenCols+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY t.created_at DESC, t.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*TokenRow
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token of a team. changed is false when it was
// already revoked (its revoked_at is left as it was). ErrNotFound when the
// team has no such token.
func (q queries) RevokeToken(ctx context.Context, teamID int64, id string, now time.Time) (t *TokenRow, changed bool, err error) {
	res, err := q.w.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND team_id = ? AND revoked_at IS NULL`,
		nanos(now), id, teamID)
	if err != nil {
		return nil, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, err
	}
	t, err = q.TokenByID(ctx, teamID, id)
	return t, n == 1, err
}

// RevokeByHash revokes the token whose secret has this hash, if any.
func (q queries) RevokeByHash(ctx context.Context, hash string, now time.Time) (bool, error) {
	res, err := q.w.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE secret_hash = ? AND revoked_at IS NULL`, nanos(now), hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetSecondFactor records that the token confirmed a second factor, valid
// until the given time.
func (q queries) SetSecondFactor(ctx context.Context, tokenID string, until time.Time) error {
	_, err := q.w.ExecContext(ctx, `UPDATE tokens SET second_factor_until = ? WHERE id = ?`, nanos(until), tokenID)
	return err
}

// RecordUse writes the last use of each token in one transaction; a time
// older than the stored one is ignored.
func (s *Store) RecordUse(ctx context.Context, uses map[string]time.Time) error {
	if len(uses) == 0 {
		return nil
	}
	return s.InTx(ctx, func(tx *Tx) error {
		for id, at := range uses {
			if _, err := tx.w.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?
				AND (last_used_at IS NULL OR last_used_at < ?)`, nanos(at), id, nanos(at)); err != nil {
				return err
			}
		}
		return nil
	})
}

// CountTokens counts the rows of the tokens table (for tests and stats).
func (q queries) CountTokens(ctx context.Context) (total, revoked int, err error) {
	err = q.r.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(revoked_at) FROM tokens`).Scan(&total, &revoked)
	return total, revoked, err
}

// Idempotent is a stored result of a create made with an Idempotency-Key.
type Idempotent struct {
	RequestHash string
	Sealed      []byte // the response, encrypted with the server key
	CreatedAt   time.Time
}

// GetIdempotent finds the result stored for (calling token, key) that is
// not older than since.
func (q queries) GetIdempotent(ctx context.Context, tokenID, key string, since time.Time) (*Idempotent, error) {
	var it Idempotent
	var created int64
	err := q.r.QueryRowContext(ctx, `SELECT request_hash, sealed, created_at FROM idempotency
		WHERE token_id = ? AND key = ? AND created_at >= ?`, tokenID, key, nanos(since)).Scan(&it.RequestHash, &it.Sealed, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	it.CreatedAt = fromNanos(created)
	return &it, nil
}

// PutIdempotent stores the result of a create, replacing an expired one.
func (q queries) PutIdempotent(ctx context.Context, tokenID, key string, it Idempotent) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO idempotency (token_id, key, request_hash, sealed, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_id, key) DO UPDATE SET request_hash = excluded.request_hash,
		sealed = excluded.sealed, created_at = excluded.created_at`, tokenID, key, it.RequestHash, it.Sealed, nanos(it.CreatedAt))
	return err
}

// Prune deletes what has outlived its use: idempotent results, sessions and
// device codes older than the given times, and spent second-factor steps.
func (s *Store) Prune(ctx context.Context, idemBefore, sessionsBefore, devicesBefore time.Time, stepBefore int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		for _, st := range []struct {
			q   string
			arg int64
		}{
			{`DELETE FROM idempotency WHERE created_at < ?`, nanos(idemBefore)},
			{`DELETE FROM sessions WHERE expires_at < ?`, nanos(sessionsBefore)},
			{`DELETE FROM device_codes WHERE expires_at < ?`, nanos(devicesBefore)},
			{`DELETE FROM totp_used WHERE step < ?`, stepBefore},
		} {
			if _, err := tx.w.ExecContext(ctx, st.q, st.arg); err != nil {
				return err
			}
		}
		return nil
	})
}
