package movitera

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseExpiry(t *testing.T) {
	good := map[string]Expiry{
		"7d": {Days: 7}, "90d": {Days: 90}, "365d": {Days: 365}, "2w": {Days: 14},
		"168h": {Days: 7}, "NEVER": {Never: true}, " 30D ": {Days: 30}, "52w": {Days: 364},
	}
	for in, want := range good {
		got, err := ParseExpiry(in)
		if err != nil || got != want {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"0":                     "invalid expiry \"0\": use " + ExpiryForms,
		"0d":                    "invalid expiry \"0d\": expiry out of range; use " + ExpiryForms,
		"-1d":                   "invalid expiry \"-1d\": use " + ExpiryForms,
		"400d":                  "invalid expiry \"400d\": expiry out of range; use " + ExpiryForms,
		"90":                    "invalid expiry \"90\": use " + ExpiryForms,
		"2w3d":                  "invalid expiry \"2w3d\": use " + ExpiryForms,
		"6d":                    "invalid expiry \"6d\": expiry out of range; use " + ExpiryForms,
		"25h":                   "invalid expiry \"25h\": hours must make whole days (a multiple of 24); use " + ExpiryForms,
		"":                      "invalid expiry \"\": use " + ExpiryForms,
		"99999999999999999999d": "invalid expiry \"99999999999999999999d\": expiry out of range; use " + ExpiryForms,
	}
	for in, want := range bad {
		_, err := ParseExpiry(in)
		if err == nil || err.Error() != want {
			t.Errorf("ParseExpiry(%q) error = %v; want %q", in, err, want)
		}
	}
	if _, err := ParseExpiry("400d"); !errors.Is(err, ErrExpiryRange) {
		t.Errorf("400d should wrap ErrExpiryRange, got %v", err)
	}
}

func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"7d", "365d", "2w", "168h", "never", "0", "-1d", "2w3d", "9999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpiry(s)
		if err != nil {
			return
		}
		if !e.Never && (e.Days < MinExpiryDays || e.Days > MaxExpiryDays) {
			t.Fatalf("ParseExpiry(%q) accepted %d days", s, e.Days)
		}
		again, err := ParseExpiry(e.String())
		if err != nil || again != e {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
	})
}

func TestClientTypes(t *testing.T) {
	for in, want := range map[string]ClientType{"cli": TypeCLI, "SDK": TypeSDK, "browser-extension": TypeExtension, "extension": TypeExtension, "other": TypeOther} {
		got, err := ParseCreatableType(in)
		if err != nil || got != want {
			t.Errorf("ParseCreatableType(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCreatableType("agent"); err != ErrAgentReserved {
		t.Errorf("agent: got %v", err)
	}
	_, err := ParseCreatableType("robot")
	if err == nil || err.Error() != `unknown client type "robot": use one of cli, sdk, extension, other` {
		t.Errorf("robot: got %v", err)
	}
}

func TestSecretRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, typ := range AllTypes {
		s, err := NewSecret(typ)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != SecretLen || seen[s] {
			t.Fatalf("bad or repeated secret %q", s)
		}
		seen[s] = true
		got, err := ParseSecret(s)
		if err != nil || got != typ {
			t.Fatalf("ParseSecret(%q) = %q, %v; want %q", s, got, err, typ)
		}
		if p := DisplayPrefix(s); len(p) != DisplayPrefixLen || !strings.HasPrefix(s, p) {
			t.Fatalf("DisplayPrefix(%q) = %q", s, p)
		}
		// One changed character must break the checksum.
		flip := []byte(s)
		if flip[10] == 'a' {
			flip[10] = 'b'
		} else {
			flip[10] = 'a'
		}
		if _, err := ParseSecret(string(flip)); err != ErrMalformedSecret {
			t.Fatalf("corrupted secret accepted: %v", err)
		}
	}
	if _, err := ParseSecret("ghp_abc"); err != ErrMalformedSecret {
		t.Fatal("foreign token accepted")
	}
	if got := PublicPrefix("ghp_0123456789abcdefghij0123456789abcdefgh"); got != "not a movitera token" {
		t.Fatalf("PublicPrefix of a foreign token = %q", got)
	}
	if HashSecret("x") != "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" {
		t.Fatal("HashSecret is not SHA-256 hex")
	}
}

func FuzzParseSecret(f *testing.F) {
	s, _ := NewSecret(TypeSDK)
	f.Add(s)
	f.Add("mvs_")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		typ, err := ParseSecret(in)
		if err != nil {
			return
		}
		if !typ.Valid() || len(in) != SecretLen || checksum(in[:len(in)-secretChecksumLen]) != in[len(in)-secretChecksumLen:] {
			t.Fatalf("ParseSecret accepted %q as %q", in, typ)
		}
	})
}

func TestStatesAndLabels(t *testing.T) {
	now := time.Date(2026, 12, 3, 23, 30, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	day := 24 * time.Hour
	cases := []struct {
		tok             Token
		state           State
		expiry, lastUse string
		soon            bool
	}{
		{Token{ExpiresAt: at(90 * day)}, StateActive, "Expires in 90 days", "Never used", false},
		{Token{ExpiresAt: at(7 * day), LastUsedAt: at(-5 * time.Minute)}, StateActive, "Expires in 7 days", "5 minutes ago", true},
		{Token{ExpiresAt: at(6*day + time.Hour)}, StateActive, "Expires in 7 days", "Never used", true},
		{Token{ExpiresAt: at(time.Hour), LastUsedAt: at(-26 * time.Hour)}, StateActive, "Expires in 1 day", "1 day ago", true},
		{Token{}, StateActive, "Never expires", "Never used", false},
		{Token{ExpiresAt: at(0)}, StateExpired, "Expired", "Never used", false},
		{Token{ExpiresAt: at(-day), RevokedAt: at(-2 * day)}, StateRevoked, "Revoked", "Never used", false},
	}
	for i, c := range cases {
		if got := c.tok.StateAt(now); got != c.state {
			t.Errorf("%d: state %q, want %q", i, got, c.state)
		}
		if got := c.tok.ExpiryLabel(now); got != c.expiry {
			t.Errorf("%d: expiry %q, want %q", i, got, c.expiry)
		}
		if got := c.tok.LastUseLabel(now); got != c.lastUse {
			t.Errorf("%d: last use %q, want %q", i, got, c.lastUse)
		}
		if got := c.tok.ExpiringSoon(now); got != c.soon {
			t.Errorf("%d: soon %v, want %v", i, got, c.soon)
		}
	}
}

func TestDaysLeftIgnoresTimeZone(t *testing.T) {
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := Token{ExpiresAt: &exp}
	utc := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, name := range []string{"Pacific/Auckland", "America/Los_Angeles"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Skip("no tzdata:", err)
		}
		if d, _ := tok.DaysLeft(utc.In(loc)); d != 29 {
			t.Errorf("%s: %d days, want 29", name, d)
		}
	}
}

func TestValidTeamSlug(t *testing.T) {
	for s, want := range map[string]bool{
		"acme": true, "a": true, "team-2": true, strings.Repeat("a", 63): true,
		"": false, "-acme": false, "Acme": false, "bad!": false, "a b": false, strings.Repeat("a", 64): false, "acme\x1b": false,
	} {
		if got := ValidTeamSlug(s); got != want {
			t.Errorf("ValidTeamSlug(%q) = %v, want %v", s, got, want)
		}
	}
}
