package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var epoch = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// fixture is a real server on a temporary SQLite file, served by httptest.
type fixture struct {
	t     testing.TB
	dir   string
	clock *clock
	srv   *Server
	ts    *httptest.Server
	dev   *DevCredentials
	logs  *syncBuffer // the server's log, as JSON lines

	proxies []netip.Prefix // Config.TrustedProxies
}

// syncBuffer is a buffer the server's goroutines write to while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newFixture starts a server that trusts the proxies given, if any.
func newFixture(t testing.TB, proxies ...netip.Prefix) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), clock: &clock{t: epoch}, logs: &syncBuffer{}, proxies: proxies}
	f.open()
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	srv, err := Open(context.Background(), Config{DataDir: f.dir, Dev: true, Now: f.clock.Now, PollInterval: 5 * time.Second,
		Logger: slog.New(slog.NewJSONHandler(f.logs, nil)), TrustedProxies: f.proxies})
	if err != nil {
		f.t.Fatal(err)
	}
	f.srv = srv
	f.ts = httptest.NewServer(srv.Handler())
	f.dev, err = srv.SetupDev(f.ts.URL)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(f.close)
}

func (f *fixture) close() {
	if f.ts != nil {
		f.ts.Close()
		f.ts = nil
	}
	if f.srv != nil {
		if err := f.srv.Close(); err != nil {
			f.t.Error(err)
		}
	}
}

// restart closes the server and opens it again on the same data directory.
func (f *fixture) restart() {
	f.close()
	f.open()
}

type response struct {
	*http.Response
	body []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// do sends a request with a bearer token (if any) and a JSON body (a string
// is sent as is).
func (f *fixture) do(method, path, token string, body any, hdr ...string) response {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, f.ts.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp, b}
}

// form posts a form without cookies.
func (f *fixture) form(path string, vals map[string]string) response {
	f.t.Helper()
	form := url.Values{}
	for k, v := range vals {
		form.Set(k, v)
	}
	return f.do("POST", path, "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

// wantProblem checks status, content type and code of a problem answer.
func wantProblem(t testing.TB, r response, status int, code string) problem {
	t.Helper()
	var p problem
	if r.StatusCode != status || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %s %s; want %d problem %s", r.StatusCode, r.Header.Get("Content-Type"), r.body, status, code)
	}
	r.json(t, &p)
	if p.Code != code || p.Status != status || p.Detail == "" || p.Type != "about:blank" || p.Title == "" {
		t.Fatalf("problem %+v; want %d %s", p, status, code)
	}
	return p
}

func wantOAuth(t testing.TB, r response, status int, code string) {
	t.Helper()
	var e oauthError
	if r.StatusCode != status {
		t.Fatalf("got %d %s; want %d %s", r.StatusCode, r.body, status, code)
	}
	r.json(t, &e)
	if e.Error != code || e.Description == "" {
		t.Fatalf("got %s; want error %s", r.body, code)
	}
}

func wantStatus(t testing.TB, r response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("got %d %s; want %d", r.StatusCode, r.body, status)
	}
}

// code returns a TOTP code of the dev user the server has not seen yet: the
// clock moves to the next 30-second step first.
func (f *fixture) code() string {
	return f.codeFor(f.dev.TOTPSecret)
}

func (f *fixture) codeFor(secret string) string {
	f.t.Helper()
	f.clock.Advance(totpPeriod * time.Second)
	c, err := TOTPCode(secret, f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// confirm gives a token a fresh second-factor confirmation.
func (f *fixture) confirm(token string) {
	f.t.Helper()
	wantStatus(f.t, f.do("POST", "/api/v1/second-factor", token, map[string]string{"code": f.code()}), 200)
}

// create makes a token through the API (with a second factor) and returns
// it with its secret.
func (f *fixture) create(token, team, name string, typ movitera.ClientType, days any) (movitera.Token, string) {
	f.t.Helper()
	f.confirm(token)
	r := f.do("POST", "/api/v1/teams/"+team+"/tokens", token, map[string]any{"name": name, "client_type": typ, "expires_in_days": days})
	wantStatus(f.t, r, 201)
	var cr createResponse
	r.json(f.t, &cr)
	return cr.Token, cr.Secret
}

// person is a user made directly in the store, with a token of one team.
type person struct {
	user       *store.User
	password   string
	totpSecret string
	token      string
}

// addPerson creates a user with roles in teams (created if needed) and a
// 90-day "other" token in the first team listed.
func (f *fixture) addPerson(email string, teams ...string) person {
	f.t.Helper()
	ctx := context.Background()
	p := person{password: "correct horse " + email, totpSecret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}
	hash, err := hashPassword(p.password)
	if err != nil {
		f.t.Fatal(err)
	}
	u := store.User{PasswordHash: hash, CreatedAt: f.clock.Now()}
	u.ID, u.Email, u.Name = newID("usr_"), email, email
	u.TOTPSealed = f.srv.key.seal([]byte(p.totpSecret), "totp\x00"+u.ID)
	err = f.srv.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.UpsertUser(ctx, u); err != nil {
			return err
		}
		var first int64
		for i := 0; i+1 < len(teams); i += 2 {
			id, err := tx.UpsertTeam(ctx, teams[i], strings.ToUpper(teams[i][:1])+teams[i][1:])
			if err != nil {
				return err
			}
			if err := tx.SetMembership(ctx, u.ID, id, movitera.Role(teams[i+1])); err != nil {
				return err
			}
			if first == 0 {
				first = id
			}
		}
		_, secret, err := f.srv.insertToken(ctx, tx, first, u.ID, email+" token", movitera.TypeOther, 90, f.clock.Now())
		p.token = secret
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	p.user, _ = f.srv.db.UserByEmail(ctx, email)
	return p
}

func TestMain(m *testing.M) {
	// Password hashing at full cost makes every fixture slow under -race;
	// the stored format carries the count, so checks work the same.
	passwordIterations = 1000
	os.Exit(m.Run())
}
