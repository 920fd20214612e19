package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

// User is a person, with what the server needs to sign them in.
type User struct {
	movitera.User
	PasswordHash string
	TOTPSealed   []byte // the TOTP secret, encrypted with the server key
	CreatedAt    time.Time
}

// TeamRow is a team with its internal id.
type TeamRow struct {
	ID   int64
	Slug string
	Name string
}

// UpsertUser creates the user, or updates the name, password and TOTP secret
// of the user with that email.
func (q queries) UpsertUser(ctx context.Context, u User) (string, error) {
	_, err := q.w.ExecContext(ctx, `INSERT INTO users (id, email, name, password_hash, totp_sealed, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (email) DO UPDATE SET name = excluded.name,
			password_hash = excluded.password_hash, totp_sealed = excluded.totp_sealed`,
		u.ID, u.Email, u.Name, u.PasswordHash, u.TOTPSealed, nanos(u.CreatedAt))
	if err != nil {
		return "", err
	}
	got, err := q.UserByEmail(ctx, u.Email)
	if err != nil {
		return "", err
	}
	return got.ID, nil
}

// UserByEmail finds a user, ignoring the email's case.
func (q queries) UserByEmail(ctx context.Context, email string) (*User, error) {
	return q.user(ctx, "email = ?", email)
}

// UserByID finds a user by id.
func (q queries) UserByID(ctx context.Context, id string) (*User, error) {
	return q.user(ctx, "id = ?", id)
}

func (q queries) user(ctx context.Context, where string, arg any) (*User, error) {
	var u User
	var created int64
	err := q.r.QueryRowContext(ctx, `SELECT id, email, name, password_hash, totp_sealed, created_at
		FROM users WHERE `+where, arg).Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.TOTPSealed, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u.CreatedAt = fromNanos(created)
	return &u, nil
}

// UpsertTeam creates the team or renames it, and returns its id.
func (q queries) UpsertTeam(ctx context.Context, slug, name string) (int64, error) {
	// No RETURNING: outside a transaction the insert must have committed
	// when ExecContext returns (see Store.Generation).
	if _, err := q.w.ExecContext(ctx, `INSERT INTO teams (slug, name) VALUES (?, ?)
		ON CONFLICT (slug) DO UPDATE SET name = excluded.name`, slug, name); err != nil {
		return 0, err
	}
	t, err := q.TeamBySlug(ctx, slug)
	if err != nil {
		return 0, err
	}
	return t.ID, nil
}

// TeamBySlug finds a team.
func (q queries) TeamBySlug(ctx context.Context, slug string) (*TeamRow, error) {
	var t TeamRow
	err := q.r.QueryRowContext(ctx, `SELECT id, slug, name FROM teams WHERE slug = ?`, slug).Scan(&t.ID, &t.Slug, &t.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &t, err
}

// SetMembership makes the user a member of the team with a role.
func (q queries) SetMembership(ctx context.Context, userID string, teamID int64, role movitera.Role) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO memberships (user_id, team_id, role) VALUES (?, ?, ?)
		ON CONFLICT (user_id, team_id) DO UPDATE SET role = excluded.role`, userID, teamID, string(role))
	return err
}

// RemoveMembership takes the user out of the team.
func (q queries) RemoveMembership(ctx context.Context, userID string, teamID int64) error {
	_, err := q.w.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = ? AND team_id = ?`, userID, teamID)
	return err
}

// Role is the user's role in the team, or ErrNotFound when not a member.
func (q queries) Role(ctx context.Context, userID string, teamID int64) (movitera.Role, error) {
	var role string
	err := q.r.QueryRowContext(ctx, `SELECT role FROM memberships WHERE user_id = ? AND team_id = ?`, userID, teamID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return movitera.Role(role), err
}

// TeamsOf lists the user's teams, by slug.
func (q queries) TeamsOf(ctx context.Context, userID string) ([]movitera.Team, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT t.slug, t.name, m.role FROM memberships m
		JOIN teams t ON t.id = m.team_id WHERE m.user_id = ? ORDER BY t.slug`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	teams := []movitera.Team{}
	for rows.Next() {
		var t movitera.Team
		var role string
		if err := rows.Scan(&t.Slug, &t.Name, &role); err != nil {
			return nil, err
		}
		t.Role = movitera.Role(role)
		teams = append(teams, t)
	}
	return teams, rows.Err()
}

// UseTOTPStep records that the user's second-factor code of a time step was
// accepted. It returns ErrConflict when that step was used before: a code is
// accepted once. Steps older than oldest are forgotten.
func (q queries) UseTOTPStep(ctx context.Context, userID string, step int64, now time.Time, oldest int64) error {
	if _, err := q.w.ExecContext(ctx, `DELETE FROM totp_used WHERE user_id = ? AND step < ?`, userID, oldest); err != nil {
		return err
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO totp_used (user_id, step, used_at) VALUES (?, ?, ?)`, userID, step, nanos(now))
	if isUnique(err) {
		return ErrConflict
	}
	return err
}
