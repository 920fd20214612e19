package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Session is a browser session of the authorization pages. Only the hash of
// the cookie's value is kept.
type Session struct {
	IDHash    string
	CSRF      string
	UserID    string // "" while signed out
	CreatedAt time.Time
	ExpiresAt time.Time
}

// InsertSession stores a new session.
func (q queries) InsertSession(ctx context.Context, s Session) error {
	user := sql.NullString{String: s.UserID, Valid: s.UserID != ""}
	_, err := q.w.ExecContext(ctx, `INSERT INTO sessions (id_hash, csrf, user_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, s.IDHash, s.CSRF, user, nanos(s.CreatedAt), nanos(s.ExpiresAt))
	return err
}

// SessionByHash finds a session that has not expired at now.
func (q queries) SessionByHash(ctx context.Context, hash string, now time.Time) (*Session, error) {
	var s Session
	var user sql.NullString
	var created, expires int64
	err := q.r.QueryRowContext(ctx, `SELECT id_hash, csrf, user_id, created_at, expires_at FROM sessions
		WHERE id_hash = ? AND expires_at > ?`, hash, nanos(now)).Scan(&s.IDHash, &s.CSRF, &user, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.UserID, s.CreatedAt, s.ExpiresAt = user.String, fromNanos(created), fromNanos(expires)
	return &s, nil
}

// DeleteSession forgets a session.
func (q queries) DeleteSession(ctx context.Context, hash string) error {
	_, err := q.w.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hash)
	return err
}

// CountSessions is the number of sessions stored, expired or not.
func (q queries) CountSessions(ctx context.Context) (int, error) {
	var n int
	err := q.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n)
	return n, err
}
