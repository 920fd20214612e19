package devicelogin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"

	"github.com/movitera/movitera/internal/iostreams"
)

// fakeVault answers the device flow from a script of poll answers, in
// memory: no sockets, so that synctest's fake clock drives the polling.
type fakeVault struct {
	t       *testing.T
	mu      sync.Mutex
	polls   []string // error codes to answer, in order; "ok" for the token; "net" for a network error
	pollAt  []time.Time
	forms   []map[string]string
	uri     string
	expires int
}

func (v *fakeVault) RoundTrip(r *http.Request) (*http.Response, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		v.t.Fatal(err)
	}
	form := map[string]string{"path": r.URL.Path}
	for k := range r.PostForm {
		form[k] = r.PostForm.Get(k)
	}
	v.forms = append(v.forms, form)
	w := httptest.NewRecorder()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/oauth/device/code":
		uri := v.uri
		if uri == "" {
			uri = "http://vault.test/device?user_code=BCDF-GHJK"
		}
		json.NewEncoder(w).Encode(map[string]any{
			"device_code": "dc_secret", "user_code": "BCDF-GHJK",
			"verification_uri": "http://vault.test/device", "verification_uri_complete": uri,
			"expires_in": v.expires, "interval": 1,
		})
	case "/oauth/token":
		v.pollAt = append(v.pollAt, time.Now())
		next := "authorization_pending"
		if len(v.polls) > 0 {
			next, v.polls = v.polls[0], v.polls[1:]
		}
		switch next {
		case "ok":
			json.NewEncoder(w).Encode(map[string]any{"access_token": "mvc_new", "token_type": "Bearer", "team": "globex", "token_id": "tok_0123456789abcdef", "expires_in": 7776000})
		case "net":
			return nil, errors.New("connection refused")
		case "503":
			w.WriteHeader(503)
		default:
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": next})
		}
	default:
		w.WriteHeader(404)
	}
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

func newFlow(v *fakeVault) (*Flow, *iostreams.IOStreams, *strings.Builder) {
	ios, _, _, stderr := iostreams.Test()
	_ = stderr
	var opened strings.Builder
	if v.expires == 0 {
		v.expires = 900
	}
	f := &Flow{
		OAuth: &oauth2.Config{ClientID: "movitera-cli", Endpoint: oauth2.Endpoint{
			DeviceAuthURL: "http://vault.test/oauth/device/code", TokenURL: "http://vault.test/oauth/token", AuthStyle: oauth2.AuthStyleInParams}},
		HTTPClient: &http.Client{Transport: v},
		IO:         ios,
		DeviceName: "laptop · cli",
		Team:       "acme",
		Open:       func(u string) error { opened.WriteString(u); return nil },
		Backoff:    []time.Duration{time.Second},
	}
	return f, ios, &opened
}

func stderrOf(ios *iostreams.IOStreams) string {
	return ios.ErrOut.(interface{ String() string }).String()
}

func TestApproved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &fakeVault{t: t, polls: []string{"authorization_pending", "authorization_pending", "ok"}}
		f, ios, opened := newFlow(v)
		res, err := f.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.AccessToken != "mvc_new" || res.Team != "globex" || res.TokenID != "tok_0123456789abcdef" || res.Expiry.IsZero() {
			t.Fatalf("result %+v", res)
		}
		want := "! First copy your one-time code: BCDF-GHJK\n" +
			"Open this URL to continue in your browser: http://vault.test/device?user_code=BCDF-GHJK\n" +
			"Waiting for the approval in the browser (the code expires in 15 minutes)...\n"
		if got := stderrOf(ios); got != want {
			t.Fatalf("stderr:\n%s\nwant:\n%s", got, want)
		}
		if opened.String() != "http://vault.test/device?user_code=BCDF-GHJK" {
			t.Fatalf("opened %q", opened.String())
		}
		code := v.forms[0]
		if code["client_id"] != "movitera-cli" || code["device_name"] != "laptop · cli" || code["team"] != "acme" {
			t.Fatalf("device code form %v", code)
		}
		for _, poll := range v.forms[1:] {
			// AuthStyleInParams: one request per poll, credentials in the body.
			if poll["client_id"] != "movitera-cli" || poll["device_code"] != "dc_secret" || poll["grant_type"] != "urn:ietf:params:oauth:grant-type:device_code" {
				t.Fatalf("poll form %v", poll)
			}
		}
		if len(v.forms) != 4 {
			t.Fatalf("%d requests, want 4", len(v.forms))
		}
	})
}

// TestSlowDownTwice: each slow_down adds 5 seconds to the interval (RFC
// 8628 §3.5), and two in a row add 10.
func TestSlowDownTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &fakeVault{t: t, polls: []string{"slow_down", "slow_down", "authorization_pending", "ok"}}
		f, _, _ := newFlow(v)
		start := time.Now()
		if _, err := f.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		var gaps []time.Duration
		prev := start
		for _, at := range v.pollAt {
			gaps = append(gaps, at.Sub(prev))
			prev = at
		}
		want := []time.Duration{time.Second, 6 * time.Second, 11 * time.Second, 11 * time.Second}
		if len(gaps) != len(want) {
			t.Fatalf("gaps %v, want %v", gaps, want)
		}
		for i := range want {
			if gaps[i] != want[i] {
				t.Fatalf("gaps %v, want %v", gaps, want)
			}
		}
	})
}

func TestEndings(t *testing.T) {
	for _, tc := range []struct {
		polls []string
		want  error
		msg   string
	}{
		{[]string{"authorization_pending", "access_denied"}, ErrDenied, ""},
		{[]string{"expired_token"}, ErrExpired, ""},
		{[]string{"invalid_grant"}, nil, "the server no longer knows this login (it was used or cancelled): nothing was stored; run 'movitera login' again"},
		{[]string{"unsupported_grant_type"}, nil, "the login failed: unsupported_grant_type"},
	} {
		synctest.Test(t, func(t *testing.T) {
			v := &fakeVault{t: t, polls: tc.polls}
			f, _, _ := newFlow(v)
			_, err := f.Run(context.Background())
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("%v: got %v, want %v", tc.polls, err, tc.want)
			}
			if tc.msg != "" && (err == nil || err.Error() != tc.msg) {
				t.Fatalf("%v: got %v, want %s", tc.polls, err, tc.msg)
			}
		})
	}
}

func TestCodeExpiresWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &fakeVault{t: t, expires: 5}
		f, _, _ := newFlow(v)
		_, err := f.Run(context.Background())
		if !errors.Is(err, ErrExpired) {
			t.Fatalf("got %v", err)
		}
		if err.Error() != "the code expired before the login was approved: nothing was stored; run 'movitera login' for a new code" {
			t.Fatal(err)
		}
	})
}

func TestNetworkErrorsBackOffAndGoOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &fakeVault{t: t, polls: []string{"net", "net", "503", "authorization_pending", "ok"}}
		f, ios, _ := newFlow(v)
		res, err := f.Run(context.Background())
		if err != nil || res.AccessToken != "mvc_new" {
			t.Fatalf("%v %v", res, err)
		}
		got := stderrOf(ios)
		if strings.Count(got, "warning: cannot reach the vault (connection refused); still waiting\n") != 1 || !strings.HasSuffix(got, "warning: reached the server again\n") {
			t.Fatalf("stderr:\n%s", got)
		}
	})
}

func TestNetworkErrorsUntilExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &fakeVault{t: t, expires: 30, polls: []string{"net", "net", "net", "net", "net", "net", "net", "net", "net", "net", "net", "net", "net", "net", "net", "net"}}
		f, _, _ := newFlow(v)
		if _, err := f.Run(context.Background()); !errors.Is(err, ErrExpired) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestInterrupted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &fakeVault{t: t}
		f, _, _ := newFlow(v)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(3 * time.Second); cancel() }()
		if _, err := f.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestBrowserFailureIsAWarning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &fakeVault{t: t, polls: []string{"ok"}}
		f, ios, _ := newFlow(v)
		f.Open = func(string) error { return errors.New("xdg-open: not found") }
		if _, err := f.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stderrOf(ios), "warning: could not open a browser (xdg-open: not found): open the URL above yourself\nWaiting") {
			t.Fatalf("stderr:\n%s", stderrOf(ios))
		}
	})
}

func TestNoOpenReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &fakeVault{t: t, polls: []string{"ok"}}
		f, ios, _ := newFlow(v)
		f.Open, f.NoOpenReason = nil, "this is an SSH session"
		if _, err := f.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stderrOf(ios), "\nNot opening a browser: this is an SSH session. Open the URL on any device with a browser.\n") {
			t.Fatalf("stderr:\n%s", stderrOf(ios))
		}
	})
}

func TestSpinnerOnATerminal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &fakeVault{t: t, polls: []string{"authorization_pending", "ok"}}
		f, ios, _ := newFlow(v)
		ios.SetTTY(false, false, true)
		if _, err := f.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := stderrOf(ios)
		if !strings.Contains(got, "\r\x1b[K⠋ Waiting for the approval in the browser... 15:00 left") ||
			!strings.Contains(got, "14:59 left") || !strings.HasSuffix(got, "\r\x1b[K") {
			t.Fatalf("stderr:\n%q", got)
		}
	})
}

func TestRefusesOddVerificationURL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &fakeVault{t: t, uri: "file:///etc/passwd"}
		f, _, opened := newFlow(v)
		_, err := f.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "will not open") || opened.Len() != 0 {
			t.Fatalf("got %v, opened %q", err, opened.String())
		}
	})
}

func TestServerControlCharactersNeutralised(t *testing.T) {
	if got := clean("BCDF\x1b[2J-GHJK\u202e"); got != `BCDF\x1b[2J-GHJK\u202e` {
		t.Fatal(got)
	}
}

// Starting a login against an HTTPS server the machine does not trust, or
// with http:// against an HTTPS server, says what to do, as the API client
// does.
func TestStartSaysWhatToDoAboutHTTPS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	for _, c := range []struct{ base, want string }{
		{"https://" + host, "cannot start the login: cannot reach the vault at https://" + host + ": its certificate is signed by an authority this machine does not trust; if the vault uses a private CA, set SSL_CERT_FILE to that CA's certificate"},
		{"http://" + host, "cannot start the login: the server at " + host + " speaks HTTPS: use https://" + host + " as the server address (--server, MOVITERA_SERVER)"},
	} {
		ios, _, _, _ := iostreams.Test()
		f := &Flow{
			OAuth: &oauth2.Config{ClientID: "movitera-cli", Endpoint: oauth2.Endpoint{
				DeviceAuthURL: c.base + "/oauth/device/code", TokenURL: c.base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}},
			HTTPClient: &http.Client{},
			IO:         ios,
			Open:       func(string) error { return nil },
		}
		if _, err := f.Run(context.Background()); err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v; want %q", c.base, err, c.want)
		}
	}
}
