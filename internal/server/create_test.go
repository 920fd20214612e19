package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

func countTokens(t *testing.T, f *fixture) (total, revoked int) {
	t.Helper()
	total, revoked, err := f.srv.db.CountTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return total, revoked
}

func TestCreateToken(t *testing.T) {
	f := newFixture(t)
	tok, secret := f.create(f.dev.Token, "acme", "  meu macbook · cli  ", movitera.TypeSDK, 90)
	if typ, err := movitera.ParseSecret(secret); err != nil || typ != movitera.TypeSDK {
		t.Fatalf("secret %q: %v %v", secret, typ, err)
	}
	now := f.clock.Now()
	if tok.Name != "meu macbook · cli" || tok.ClientType != "sdk" || tok.Prefix != secret[:12] || tok.Team != "acme" ||
		tok.CreatedBy != DevEmail || tok.LastUsedAt != nil || tok.RevokedAt != nil || !strings.HasPrefix(tok.ID, "tok_") ||
		tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(now.Add(90*24*time.Hour)) || !tok.CreatedAt.Equal(now) {
		t.Fatalf("token %+v", tok)
	}
	row, err := f.srv.db.TokenByHash(context.Background(), movitera.HashSecret(secret))
	if err != nil || row.ID != tok.ID || row.SecretHash == secret {
		t.Fatalf("stored row %+v, %v", row, err)
	}
	// Managers may create tokens that never expire.
	tok, _ = f.create(f.dev.Token, "acme", "forever", movitera.TypeCLI, nil)
	if tok.ExpiresAt != nil {
		t.Fatalf("never-expiring token expires %v", tok.ExpiresAt)
	}
}

func TestCreateTokenRefusals(t *testing.T) {
	f := newFixture(t)
	member := f.addPerson("member@example.com", "globex", "member")
	f.confirm(f.dev.Token)
	wantStatus(t, f.do("POST", "/api/v1/second-factor", member.token, map[string]string{"code": f.codeFor(member.totpSecret)}), 200)
	long := strings.Repeat("é", 101)
	cases := []struct {
		name, body string
		token      string
		status     int
		code       string
	}{
		{"malformed", `{"name": "x",`, "", 400, "invalid_request"},
		{"not an object", `["x"]`, "", 400, "invalid_request"},
		{"unknown field", `{"name":"x","client_type":"sdk","expires_in_days":7,"team":"acme"}`, "", 400, "invalid_request"},
		{"wrong type", `{"name":1,"client_type":"sdk","expires_in_days":7}`, "", 400, "invalid_request"},
		{"two values", `{"name":"x","client_type":"sdk","expires_in_days":7}{}`, "", 400, "invalid_request"},
		{"trailing", `{"name":"x","client_type":"sdk","expires_in_days":7} x`, "", 400, "invalid_request"},
		{"expiry as string", `{"name":"x","client_type":"sdk","expires_in_days":"90"}`, "", 400, "invalid_request"},
		{"no name", `{"client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"blank name", `{"name":"   ","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"long name", `{"name":"` + long + `","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"control in name", `{"name":"a\u001b[31mb","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"newline in name", `{"name":"a\nb","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"zero-width space name", `{"name":"\u200b","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"zero-width joiners name", `{"name":"\u200b\u200c\u200d","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"soft hyphen name", `{"name":" \u00ad ","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"tag characters name", `{"name":"\udb40\udc61\udb40\udc62","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"word joiner and BOM name", `{"name":"\u2060\ufeff","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"combining mark name", `{"name":"\u0301","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"spaces and invisibles name", `{"name":"\u3000\u200b\u00a0","client_type":"sdk","expires_in_days":7}`, "", 422, "invalid_name"},
		{"no type", `{"name":"x","expires_in_days":7}`, "", 422, "invalid_client_type"},
		{"unknown type", `{"name":"x","client_type":"robot","expires_in_days":7}`, "", 422, "invalid_client_type"},
		{"upper-case type", `{"name":"x","client_type":"SDK","expires_in_days":7}`, "", 422, "invalid_client_type"},
		{"agent", `{"name":"x","client_type":"agent","expires_in_days":7}`, "", 422, "agent_type_reserved"},
		{"no expiry", `{"name":"x","client_type":"sdk"}`, "", 422, "invalid_expiry"},
		{"6 days", `{"name":"x","client_type":"sdk","expires_in_days":6}`, "", 422, "invalid_expiry"},
		{"366 days", `{"name":"x","client_type":"sdk","expires_in_days":366}`, "", 422, "invalid_expiry"},
		{"0 days", `{"name":"x","client_type":"sdk","expires_in_days":0}`, "", 422, "invalid_expiry"},
		{"negative", `{"name":"x","client_type":"sdk","expires_in_days":-30}`, "", 422, "invalid_expiry"},
		{"fraction", `{"name":"x","client_type":"sdk","expires_in_days":7.5}`, "", 422, "invalid_expiry"},
		{"huge", `{"name":"x","client_type":"sdk","expires_in_days":1e30}`, "", 422, "invalid_expiry"},
		{"never by a member", `{"name":"x","client_type":"sdk","expires_in_days":null}`, member.token, 403, "manager_required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, team := f.dev.Token, "acme"
			if c.token != "" {
				tok, team = c.token, "globex"
			}
			wantProblem(t, f.do("POST", "/api/v1/teams/"+team+"/tokens", tok, c.body), c.status, c.code)
		})
	}
	big := `{"name":"` + strings.Repeat("a", 70<<10) + `","client_type":"sdk","expires_in_days":7}`
	wantProblem(t, f.do("POST", "/api/v1/teams/acme/tokens", f.dev.Token, big), 413, "body_too_large")
	if total, _ := countTokens(t, f); total != 2 {
		t.Fatalf("%d tokens stored after refusals; want the 2 of the fixture", total)
	}
}

func TestCreateNeedsSecondFactor(t *testing.T) {
	f := newFixture(t)
	body := map[string]any{"name": "ci", "client_type": "sdk", "expires_in_days": 30}
	wantProblem(t, f.do("POST", "/api/v1/teams/acme/tokens", f.dev.Token, body), 403, "second_factor_required")
	f.confirm(f.dev.Token)
	wantStatus(t, f.do("POST", "/api/v1/teams/acme/tokens", f.dev.Token, body), 201)
	// The confirmation lasts 10 minutes, for the calling token only.
	f.clock.Advance(9 * time.Minute)
	wantStatus(t, f.do("POST", "/api/v1/teams/acme/tokens", f.dev.Token, body), 201)
	_, other := f.create(f.dev.Token, "acme", "other", movitera.TypeCLI, 30)
	wantProblem(t, f.do("POST", "/api/v1/teams/acme/tokens", other, body), 403, "second_factor_required")
	f.clock.Advance(10*time.Minute + time.Second)
	wantProblem(t, f.do("POST", "/api/v1/teams/acme/tokens", f.dev.Token, body), 403, "second_factor_required")
}

func TestSecondFactor(t *testing.T) {
	f := newFixture(t)
	code := f.code()
	r := f.do("POST", "/api/v1/second-factor", f.dev.Token, map[string]string{"code": code})
	wantStatus(t, r, 200)
	var sf secondFactorResponse
	r.json(t, &sf)
	if !sf.ConfirmedUntil.Equal(f.clock.Now().Add(10 * time.Minute)) {
		t.Fatalf("confirmed until %v", sf.ConfirmedUntil)
	}
	// Replayed: refused, even within the skew and from another token.
	wantProblem(t, f.do("POST", "/api/v1/second-factor", f.dev.Token, map[string]string{"code": code}), 422, "code_already_used")
	f.clock.Advance(20 * time.Second)
	_, other := f.create(f.dev.Token, "acme", "x", movitera.TypeCLI, 30)
	wantProblem(t, f.do("POST", "/api/v1/second-factor", other, map[string]string{"code": code}), 422, "code_already_used")
	// One step of skew either side is accepted; two are not.
	f.clock.Advance(time.Minute)
	prev, _ := TOTPCode(f.dev.TOTPSecret, f.clock.Now().Add(-30*time.Second))
	wantStatus(t, f.do("POST", "/api/v1/second-factor", f.dev.Token, map[string]string{"code": prev}), 200)
	old, _ := TOTPCode(f.dev.TOTPSecret, f.clock.Now().Add(-90*time.Second))
	wantProblem(t, f.do("POST", "/api/v1/second-factor", f.dev.Token, map[string]string{"code": old}), 422, "invalid_code")
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		f.clock.Advance(time.Minute) // stay clear of the rate limit
		wantProblem(t, f.do("POST", "/api/v1/second-factor", other, map[string]string{"code": bad}), 422, "invalid_code")
	}
	wantProblem(t, f.do("POST", "/api/v1/second-factor", other, `{"code":123456}`), 400, "invalid_request")
	wantProblem(t, f.do("POST", "/api/v1/second-factor", other, `{"otp":"123456"}`), 400, "invalid_request")
}

func TestSecondFactorRateLimit(t *testing.T) {
	f := newFixture(t)
	wrong := func() response {
		return f.do("POST", "/api/v1/second-factor", f.dev.Token, map[string]string{"code": "000000"})
	}
	for i := 0; i < failuresPerUser.burst; i++ {
		wantProblem(t, wrong(), 422, "invalid_code")
	}
	r := wrong()
	wantProblem(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Even a right code waits.
	c, _ := TOTPCode(f.dev.TOTPSecret, f.clock.Now())
	wantProblem(t, f.do("POST", "/api/v1/second-factor", f.dev.Token, map[string]string{"code": c}), 429, "rate_limited")
	f.clock.Advance(time.Minute)
	f.confirm(f.dev.Token)
}

func TestIdempotentCreate(t *testing.T) {
	f := newFixture(t)
	f.confirm(f.dev.Token)
	body := map[string]any{"name": "deploy", "client_type": "sdk", "expires_in_days": 30}
	post := func(key string, b any) response {
		return f.do("POST", "/api/v1/teams/acme/tokens", f.dev.Token, b, "Idempotency-Key", key)
	}
	first := post("k1", body)
	wantStatus(t, first, 201)
	again := post("k1", body)
	wantStatus(t, again, 201)
	if string(first.body) != string(again.body) {
		t.Fatalf("retry answered %s; first was %s", again.body, first.body)
	}
	if total, _ := countTokens(t, f); total != 2 {
		t.Fatalf("%d tokens after a retried create; want 2", total)
	}
	// The stored answer holds the secret only encrypted.
	var cr createResponse
	first.json(t, &cr)
	it, err := f.srv.db.GetIdempotent(context.Background(), f.dev.TokenID, "k1", epoch)
	if err != nil || strings.Contains(string(it.Sealed), cr.Secret) || strings.Contains(string(it.Sealed), "deploy") {
		t.Fatalf("idempotent row: %v %q", err, it.Sealed)
	}
	other := map[string]any{"name": "deploy", "client_type": "sdk", "expires_in_days": 31}
	wantProblem(t, post("k1", other), 422, "idempotency_key_reused")
	wantStatus(t, post("k2", body), 201)
	wantProblem(t, post(strings.Repeat("k", 256), body), 400, "invalid_request")
	// The key is per calling token.
	_, secret := f.create(f.dev.Token, "acme", "second caller", movitera.TypeCLI, 30)
	f.confirm(secret)
	r := f.do("POST", "/api/v1/teams/acme/tokens", secret, body, "Idempotency-Key", "k1")
	wantStatus(t, r, 201)
	if string(r.body) == string(first.body) {
		t.Fatal("another token's key replayed")
	}
	// A retry after 24 hours is a new create (it needs a new confirmation).
	f.clock.Advance(24*time.Hour + time.Minute)
	f.confirm(f.dev.Token)
	late := post("k1", body)
	wantStatus(t, late, 201)
	if string(late.body) == string(first.body) {
		t.Fatal("replayed after 24 hours")
	}
	// Retried without a confirmation: still the first answer.
	f.clock.Advance(11 * time.Minute)
	again = post("k1", body)
	if string(again.body) != string(late.body) {
		t.Fatalf("retry without confirmation: %d %s", again.StatusCode, again.body)
	}
}

// A replay shows the token as it is now: revoked and used since the first
// answer, with the secret of the first answer.
func TestIdempotentReplayShowsCurrentToken(t *testing.T) {
	f := newFixture(t)
	f.confirm(f.dev.Token)
	body := map[string]any{"name": "deploy", "client_type": "sdk", "expires_in_days": 30}
	first := f.do("POST", "/api/v1/teams/acme/tokens", f.dev.Token, body, "Idempotency-Key", "k1")
	wantStatus(t, first, 201)
	var cr createResponse
	first.json(t, &cr)
	if cr.Token.RevokedAt != nil || cr.Token.LastUsedAt != nil {
		t.Fatalf("first answer: %s", first.body)
	}
	f.clock.Advance(time.Minute)
	wantStatus(t, f.do("GET", "/api/v1/user", cr.Secret, nil), 200)
	f.clock.Advance(time.Minute)
	wantStatus(t, f.do("DELETE", "/api/v1/teams/acme/tokens/"+cr.Token.ID, f.dev.Token, nil), 200)

	again := f.do("POST", "/api/v1/teams/acme/tokens", f.dev.Token, body, "Idempotency-Key", "k1")
	wantStatus(t, again, 201)
	var rr createResponse
	again.json(t, &rr)
	if rr.Secret != cr.Secret || rr.Token.ID != cr.Token.ID || !rr.Token.CreatedAt.Equal(cr.Token.CreatedAt) {
		t.Fatalf("replay %s; first %s", again.body, first.body)
	}
	if rr.Token.RevokedAt == nil || !rr.Token.RevokedAt.Equal(epoch.Add(totpPeriod*time.Second+2*time.Minute)) {
		t.Errorf("replay revoked_at = %v; want the revocation time", rr.Token.RevokedAt)
	}
	if rr.Token.LastUsedAt == nil || !rr.Token.LastUsedAt.Equal(epoch.Add(totpPeriod*time.Second+time.Minute)) {
		t.Errorf("replay last_used_at = %v; want the time of use", rr.Token.LastUsedAt)
	}
}

// A name needs one visible character; any letter, number, symbol or
// punctuation will do, in any script, beside invisible ones.
func TestCheckNameVisible(t *testing.T) {
	for _, ok := range []string{"x", "7", "·", "—", "🔑", "ci\u200bbot", "\u00adé", "名前", "  $  "} {
		if _, bad := checkName(ok); bad != "" {
			t.Errorf("checkName(%q) refused: %s", ok, bad)
		}
	}
	for _, no := range []string{"\u200b", "\u200b\u200c", "\u00ad", "\U000E0061\U000E0062", "\u034f", "\u180e", "\u0301\u0302", "\u2060 \ufeff"} {
		if _, bad := checkName(no); bad == "" {
			t.Errorf("checkName(%q) accepted", no)
		}
	}
	// The device name of the device flow names a token too.
	f := newFixture(t)
	wantOAuth(t, f.form("/oauth/device/code", map[string]string{"client_id": "movitera-cli", "device_name": "\u200b\u200c"}), 400, "invalid_request")
	f.startDevice(t, map[string]string{"client_id": "movitera-cli", "device_name": "ci\u200bbot"})
}
