package movitera

import (
	"strconv"
	"time"
)

// Token is an access token as the API describes it. The secret is never part
// of it: it is shown once, at creation.
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	ClientType ClientType `json:"client_type"`
	Prefix     string     `json:"prefix"`
	Team       string     `json:"team"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedBy  string     `json:"created_by"`
}

// State is the token's lifecycle state, derived from its fields, never
// stored.
type State string

// The three lifecycle states. "Never used" and "expires in N days" are
// labels of an active token, not states of their own.
const (
	StateActive  State = "active"
	StateExpired State = "expired"
	StateRevoked State = "revoked"
)

// ExpiryWarningDays: "Expira em N dias" is highlighted at or below it.
const ExpiryWarningDays = 7

// StateAt derives the state at a moment. Revoked wins over expired.
func (t Token) StateAt(now time.Time) State {
	switch {
	case t.RevokedAt != nil:
		return StateRevoked
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return StateExpired
	}
	return StateActive
}

// DaysLeft is the number of days until expiry, rounded up, counted in
// absolute time so that it is the same in every time zone. ok is false for
// a token that never expires.
func (t Token) DaysLeft(now time.Time) (days int, ok bool) {
	if t.ExpiresAt == nil {
		return 0, false
	}
	d := t.ExpiresAt.Sub(now)
	if d <= 0 {
		return 0, true
	}
	return int((d + 24*time.Hour - 1) / (24 * time.Hour)), true
}

// ExpiringSoon reports whether an active token has 7 days or fewer left.
func (t Token) ExpiringSoon(now time.Time) bool {
	days, ok := t.DaysLeft(now)
	return ok && t.StateAt(now) == StateActive && days <= ExpiryWarningDays
}

// ExpiryLabel is the expiry column of the seed: "Expires in N days",
// "Never expires", "Expired" or "Revoked".
func (t Token) ExpiryLabel(now time.Time) string {
	switch t.StateAt(now) {
	case StateRevoked:
		return "Revoked"
	case StateExpired:
		return "Expired"
	}
	days, ok := t.DaysLeft(now)
	if !ok {
		return "Never expires"
	}
	if days == 1 {
		return "Expires in 1 day"
	}
	return "Expires in " + strconv.Itoa(days) + " days"
}

// LastUseLabel is the last-use column: "Never used" or a relative time.
func (t Token) LastUseLabel(now time.Time) string {
	if t.LastUsedAt == nil {
		return "Never used"
	}
	return Ago(now.Sub(*t.LastUsedAt))
}

// Ago renders a past duration as people say it: "just now", "5 minutes ago".
func Ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
