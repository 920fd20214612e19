package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

// Device authorization states.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
	DeviceConsumed = "consumed"
)

// DeviceCode is a pending or finished device authorization (RFC 8628).
// Only the hash of the device code is kept.
type DeviceCode struct {
	DeviceHash string
	UserCode   string // 8 letters, no dash
	ClientID   string
	ClientType movitera.ClientType
	DeviceName string
	TeamHint   string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	Interval   int // seconds; grows by 5 at each slow_down
	LastPollAt *time.Time
	Status     string
	UserID     string // who approved or denied
	TeamID     int64  // the team picked at approval
	TokenID    string // the token handed out
}

// InsertDeviceCode stores a new authorization request. ErrConflict means the
// user code is taken: draw another.
func (q queries) InsertDeviceCode(ctx context.Context, d DeviceCode) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO device_codes (device_hash, user_code, client_id, client_type,
		device_name, team_hint, created_at, expires_at, interval_s, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.DeviceHash, d.UserCode, d.ClientID, string(d.ClientType), d.DeviceName, d.TeamHint,
		nanos(d.CreatedAt), nanos(d.ExpiresAt), d.Interval, DevicePending)
	if isUnique(err) {
		return ErrConflict
	}
	return err
}

const deviceCols = `device_hash, user_code, client_id, client_type, device_name, team_hint, created_at,
	expires_at, interval_s, last_poll_at, status, user_id, team_id, token_id FROM device_codes`

func scanDevice(row *sql.Row) (*DeviceCode, error) {
	var d DeviceCode
	var typ string
	var created, expires int64
	var poll, team sql.NullInt64
	var user, token sql.NullString
	err := row.Scan(&d.DeviceHash, &d.UserCode, &d.ClientID, &typ, &d.DeviceName, &d.TeamHint, &created,
		&expires, &d.Interval, &poll, &d.Status, &user, &team, &token)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.ClientType = movitera.ClientType(typ)
	d.CreatedAt, d.ExpiresAt, d.LastPollAt = fromNanos(created), fromNanos(expires), optTime(poll)
	d.UserID, d.TeamID, d.TokenID = user.String, team.Int64, token.String
	return &d, nil
}

// DeviceByHash finds an authorization by the hash of its device code.
func (q queries) DeviceByHash(ctx context.Context, hash string) (*DeviceCode, error) {
	return scanDevice(q.r.QueryRowContext(ctx, `SELECT `+deviceCols+` WHERE device_hash = ?`, hash))
}

// DeviceByUserCode finds an authorization by its user code (8 letters).
func (q queries) DeviceByUserCode(ctx context.Context, code string) (*DeviceCode, error) {
	return scanDevice(q.r.QueryRowContext(ctx, `SELECT `+deviceCols+` WHERE user_code = ?`, code))
}

// RecordPoll stores the time of a poll and the interval now required.
func (q queries) RecordPoll(ctx context.Context, hash string, at time.Time, interval int) error {
	_, err := q.w.ExecContext(ctx, `UPDATE device_codes SET last_poll_at = ?, interval_s = ? WHERE device_hash = ?`,
		nanos(at), interval, hash)
	return err
}

// DecideDevice approves (with a team) or denies a pending authorization. It
// returns false when the authorization was no longer pending.
func (q queries) DecideDevice(ctx context.Context, hash, status, userID string, teamID int64) (bool, error) {
	team := sql.NullInt64{Int64: teamID, Valid: teamID != 0}
	res, err := q.w.ExecContext(ctx, `UPDATE device_codes SET status = ?, user_id = ?, team_id = ?
		WHERE device_hash = ? AND status = 'pending'`, status, userID, team, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ConsumeDevice marks an approved authorization as exchanged for a token. It
// returns false when it was not approved (already exchanged, for one).
func (q queries) ConsumeDevice(ctx context.Context, hash, tokenID string) (bool, error) {
	res, err := q.w.ExecContext(ctx, `UPDATE device_codes SET status = 'consumed', token_id = ?
		WHERE device_hash = ? AND status = 'approved'`, tokenID, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
