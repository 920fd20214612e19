package server

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

// The dev setup: one user, manager of acme and plain member of globex, with
// a ready token for acme.
const (
	devCredentialsFile = "dev-credentials.json"
	DevEmail           = "dev@movitera.local"
	devName            = "Dev User"
	devTokenName       = "dev token"
	devTokenDays       = 90
)

var devTeams = []struct {
	slug, name string
	role       movitera.Role
}{
	{"acme", "Acme", movitera.RoleManager},
	{"globex", "Globex", movitera.RoleMember},
}

// DevCredentials is <data-dir>/dev-credentials.json: what a person or a
// script needs to use a --dev server. The server keeps only hashes of the
// password and the token, so this file is the only place they are in full.
type DevCredentials struct {
	ServerURL  string    `json:"server_url"`
	Email      string    `json:"email"`
	Password   string    `json:"password"`
	TOTPSecret string    `json:"totp_secret"` // base32, for an authenticator app or TOTPCode
	Token      string    `json:"token"`       // an "other" token of team acme, 90 days
	TokenID    string    `json:"token_id"`
	Teams      []DevTeam `json:"teams"`
}

// DevTeam is a team of the dev user.
type DevTeam struct {
	Slug string        `json:"slug"`
	Role movitera.Role `json:"role"`
}

// DevCredentialsPath is where SetupDev writes the dev credentials.
func (s *Server) DevCredentialsPath() string {
	return filepath.Join(s.cfg.DataDir, devCredentialsFile)
}

// SetupDev creates, once, the dev user, its teams and its token, and writes
// dev-credentials.json (0600, atomically). Run again on the same data
// directory it reuses the same values (updating server_url); when the file
// was lost, or its values no longer work, it resets the password, the TOTP
// secret and the token and rewrites the file.
func (s *Server) SetupDev(serverURL string) (*DevCredentials, error) {
	ctx := context.Background()
	path := s.DevCredentialsPath()
	var creds DevCredentials
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &creds)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("dev credentials unreadable; resetting them", "path", path, "err", err)
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		user, err := tx.UserByEmail(ctx, DevEmail)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if user == nil || !s.devUserMatches(user, creds) {
			if user, err = s.resetDevUser(ctx, tx, &creds); err != nil {
				return err
			}
		}
		creds.Teams = creds.Teams[:0]
		var acme int64
		for _, t := range devTeams {
			id, err := tx.UpsertTeam(ctx, t.slug, t.name)
			if err != nil {
				return err
			}
			if err := tx.SetMembership(ctx, user.ID, id, t.role); err != nil {
				return err
			}
			if acme == 0 {
				acme = id
			}
			creds.Teams = append(creds.Teams, DevTeam{Slug: t.slug, Role: t.role})
		}
		if tok, err := tx.TokenByHash(ctx, movitera.HashSecret(creds.Token)); err == nil &&
			tok.UserID == user.ID && tok.TeamID == acme && tok.StateAt(now) == movitera.StateActive {
			creds.TokenID = tok.ID
			return nil
		}
		row, secret, err := s.insertToken(ctx, tx, acme, user.ID, devTokenName, movitera.TypeOther, devTokenDays, now)
		if err != nil {
			return err
		}
		creds.Token, creds.TokenID = secret, row.ID
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dev setup: %w", err)
	}
	creds.ServerURL, creds.Email = serverURL, DevEmail
	out, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, append(out, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("dev setup: %w", err)
	}
	return &creds, nil
}

// devUserMatches reports whether the file's password and TOTP secret are
// the stored ones.
func (s *Server) devUserMatches(u *store.User, c DevCredentials) bool {
	if c.Password == "" || c.TOTPSecret == "" || !checkPassword(u.PasswordHash, c.Password) {
		return false
	}
	plain, err := s.key.open(u.TOTPSealed, "totp\x00"+u.ID)
	return err == nil && string(plain) == c.TOTPSecret
}

// resetDevUser gives the dev user (created if needed) a new password and
// TOTP secret, and forgets the token of the file: its secret is unknown.
func (s *Server) resetDevUser(ctx context.Context, tx *store.Tx, c *DevCredentials) (*store.User, error) {
	pw := make([]byte, 18)
	rand.Read(pw)
	seed := make([]byte, 20)
	rand.Read(seed)
	c.Password = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(pw)
	c.TOTPSecret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seed)
	c.Token = ""
	hash, err := hashPassword(c.Password)
	if err != nil {
		return nil, err
	}
	u := store.User{PasswordHash: hash, CreatedAt: s.now()}
	u.ID, u.Email, u.Name = newID("usr_"), DevEmail, devName
	if old, err := tx.UserByEmail(ctx, DevEmail); err == nil {
		u.ID = old.ID
	}
	u.TOTPSealed = s.key.seal([]byte(c.TOTPSecret), "totp\x00"+u.ID)
	if _, err := tx.UpsertUser(ctx, u); err != nil {
		return nil, err
	}
	return tx.UserByEmail(ctx, DevEmail)
}
