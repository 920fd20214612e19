package movitera

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Expiry bounds, in days, from the seed: 7 to 365 days, or never (managers).
const (
	MinExpiryDays     = 7
	MaxExpiryDays     = 365
	DefaultExpiryDays = 90
)

// Expiry is a requested lifetime: a number of days, or never.
type Expiry struct {
	Days  int  // 7..365 when Never is false
	Never bool // only vault managers may ask for it
}

// String renders the expiry as ParseExpiry accepts it.
func (e Expiry) String() string {
	if e.Never {
		return "never"
	}
	return strconv.Itoa(e.Days) + "d"
}

// ExpiryForms is the accepted syntax, for error messages.
const ExpiryForms = "Nd (days), Nw (weeks), Nh (hours, whole days only) or never, between 7d and 365d"

// ErrExpiryRange is wrapped by ParseExpiry when the value is well formed but
// outside 7..365 days.
var ErrExpiryRange = errors.New("expiry out of range")

// ParseExpiry reads "90d", "12w", "168h" or "never". The result is 7 to 365
// whole days; anything else is an error naming the accepted forms.
func ParseExpiry(s string) (Expiry, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "never" {
		return Expiry{Never: true}, nil
	}
	bad := fmt.Errorf("invalid expiry %q: use %s", s, ExpiryForms)
	if len(v) < 2 {
		return Expiry{}, bad
	}
	num, unit := v[:len(v)-1], v[len(v)-1]
	for _, c := range num {
		if c < '0' || c > '9' {
			return Expiry{}, bad
		}
	}
	if len(num) > 6 {
		return Expiry{}, fmt.Errorf("invalid expiry %q: %w; use %s", s, ErrExpiryRange, ExpiryForms)
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return Expiry{}, bad
	}
	var days int
	switch unit {
	case 'd':
		days = n
	case 'w':
		days = n * 7
	case 'h':
		if n%24 != 0 {
			return Expiry{}, fmt.Errorf("invalid expiry %q: hours must make whole days (a multiple of 24); use %s", s, ExpiryForms)
		}
		days = n / 24
	default:
		return Expiry{}, bad
	}
	if err := CheckExpiryDays(days); err != nil {
		return Expiry{}, fmt.Errorf("invalid expiry %q: %w; use %s", s, ErrExpiryRange, ExpiryForms)
	}
	return Expiry{Days: days}, nil
}

// CheckExpiryDays reports whether days is within the allowed range.
func CheckExpiryDays(days int) error {
	if days < MinExpiryDays || days > MaxExpiryDays {
		return fmt.Errorf("%w: %d days is not between %d and %d", ErrExpiryRange, days, MinExpiryDays, MaxExpiryDays)
	}
	return nil
}
