//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// vault is a real `movitera server --dev` subprocess on a loopback port.
type vault struct {
	URL     string
	DataDir string
	Dev     devCredentials
	totp    *totpSteps
	stderr  *syncBuffer
}

// devCredentials is the dev server's dev-credentials.json.
type devCredentials struct {
	ServerURL  string          `json:"server_url"`
	Email      string          `json:"email"`
	Password   string          `json:"password"`
	TOTPSecret string          `json:"totp_secret"`
	Token      string          `json:"token"`
	Teams      json.RawMessage `json:"teams"`
}

type serverOptions struct {
	deviceCodeTTL time.Duration // 0: the server's default
}

var listeningRe = regexp.MustCompile(`listening on (https?://[^\s"]+)`)

// startServer starts `movitera server --dev` on 127.0.0.1:0 in a fresh data
// directory and waits until it serves and has written its dev credentials.
// It is stopped (SIGTERM) when the test ends.
func startServer(t *testing.T, o serverOptions) *vault {
	t.Helper()
	dataDir := filepath.Join(t.TempDir(), "server")
	args := []string{"server", "--dev", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--poll-interval", "1"}
	if o.deviceCodeTTL > 0 {
		args = append(args, "--device-code-ttl", o.deviceCodeTTL.String())
	}
	cmd := exec.Command(movitera, args...)
	cmd.Env = baseEnv(map[string]string{"HOME": t.TempDir()})
	pr, pw := io.Pipe()
	v := &vault{DataDir: dataDir, stderr: &syncBuffer{}}
	cmd.Stderr = io.MultiWriter(pw, v.stderr)
	cmd.Stdout = v.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting movitera server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); exited <- err }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("movitera server did not stop within 15s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("movitera server output:\n%s", v.stderr.String())
		}
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			if m := listeningRe.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				urlc <- strings.TrimRight(m[1], ".,;")
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case v.URL = <-urlc:
	case err := <-exited:
		t.Fatalf("movitera server %s exited before listening: %v\n%s", strings.Join(args, " "), err, v.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("movitera server printed no \"listening on http://…\" within 20s:\n%s", v.stderr.String())
	}
	credFile := filepath.Join(dataDir, "dev-credentials.json")
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(credFile)
		if err == nil && json.Unmarshal(b, &v.Dev) == nil && v.Dev.Email != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dev server wrote no usable %s within 10s (err %v):\n%s", credFile, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v.Dev.ServerURL != "" && v.Dev.ServerURL != v.URL {
		t.Errorf("dev-credentials.json names server_url %q, the server said it listens on %q", v.Dev.ServerURL, v.URL)
	}
	if v.Dev.Password == "" || v.Dev.TOTPSecret == "" || v.Dev.Token == "" {
		t.Fatalf("dev-credentials.json lacks password, totp_secret or token: %+v", v.Dev)
	}
	v.totp = &totpSteps{secret: v.Dev.TOTPSecret, used: map[int64]bool{}}
	return v
}

// totpCode is a TOTP code of the dev user that the server has not accepted
// yet (it accepts each code once per user, with one step of skew either
// side); it waits for the next period when all three are spent.
func (v *vault) totpCode(t *testing.T) string {
	t.Helper()
	code, err := v.totp.next()
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// wrongTOTP is a well-formed TOTP code that is not valid now.
func (v *vault) wrongTOTP(t *testing.T) string {
	t.Helper()
	now := time.Now()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		c, _ := totp.GenerateCode(v.Dev.TOTPSecret, now.Add(d))
		valid[c] = true
	}
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", (123456+i*7919)%1000000)
		if !valid[c] {
			return c
		}
	}
}

type totpSteps struct {
	mu     sync.Mutex
	secret string
	used   map[int64]bool
}

func (s *totpSteps) next() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		now := time.Now().Unix()
		cur := now / 30
		// The current step first, then the next one, then the previous
		// one, which leaves the server's window when the current period
		// ends: only while 10 s of it remain, time enough to use it.
		for _, step := range []int64{cur, cur + 1, cur - 1} {
			if s.used[step] || (step == cur-1 && (cur+1)*30-now < 10) {
				continue
			}
			code, err := totp.GenerateCodeCustom(s.secret, time.Unix(step*30, 0), totp.ValidateOpts{
				Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
			})
			if err != nil {
				return "", err
			}
			s.used[step] = true
			return code, nil
		}
	}
	return "", errors.New("no unused TOTP step within 45s")
}

// user is a person's machine: a HOME and a config directory of their own,
// pointed at one server.
type user struct {
	t         *testing.T
	srv       *vault
	Home      string
	ConfigDir string
	env       map[string]string
}

// newUser makes a fresh HOME and config directory for the CLI. By default
// its D-Bus session address points nowhere (no keyring): tests that use a
// keyring set DBUS_SESSION_BUS_ADDRESS themselves.
func newUser(t *testing.T, srv *vault) *user {
	t.Helper()
	dir := t.TempDir()
	u := &user{t: t, srv: srv, Home: filepath.Join(dir, "home"), ConfigDir: filepath.Join(dir, "config")}
	if err := os.MkdirAll(u.Home, 0o700); err != nil {
		t.Fatal(err)
	}
	u.env = map[string]string{
		"HOME":                     u.Home,
		"MOVITERA_CONFIG_DIR":      u.ConfigDir,
		"XDG_CONFIG_HOME":          filepath.Join(u.Home, ".config"),
		"XDG_DATA_HOME":            filepath.Join(u.Home, ".local", "share"),
		"XDG_RUNTIME_DIR":          filepath.Join(dir, "run"),
		"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + filepath.Join(dir, "no-session-bus"),
		"TZ":                       "UTC",
	}
	if srv != nil {
		u.env["MOVITERA_SERVER"] = srv.URL
	}
	os.MkdirAll(u.env["XDG_RUNTIME_DIR"], 0o700)
	return u
}

// setenv sets (or, with "", unsets) a variable for the user's later commands.
func (u *user) setenv(k, v string) { u.env[k] = v }

// environ is the user's environment for a subprocess.
func (u *user) environ(extra map[string]string) []string {
	m := map[string]string{}
	for k, v := range u.env {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return baseEnv(m)
}

// baseEnv is this process's environment without anything that would change
// movitera's behaviour (MOVITERA_*, NO_COLOR, COLUMNS, BROWSER, DISPLAY,
// proxies, the D-Bus and XDG locations), plus set. An empty value in set
// unsets.
func baseEnv(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "MOVITERA_"), strings.HasPrefix(k, "XDG_"),
			k == "NO_COLOR", k == "CLICOLOR", k == "CLICOLOR_FORCE", k == "FORCE_COLOR", k == "BROWSER", k == "COLUMNS",
			k == "DISPLAY", k == "WAYLAND_DISPLAY", k == "SSH_CONNECTION", k == "SSH_TTY", k == "SSH_CLIENT",
			k == "DBUS_SESSION_BUS_ADDRESS", k == "HOME", k == "TERM", k == "TMUX", k == "TZ",
			strings.EqualFold(k, "HTTP_PROXY"), strings.EqualFold(k, "HTTPS_PROXY"), strings.EqualFold(k, "NO_PROXY"),
			strings.EqualFold(k, "ALL_PROXY"), k == "SSL_CERT_FILE", k == "SSL_CERT_DIR":
			continue
		}
		if _, ok := set[k]; ok {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// result is one finished command.
type result struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int
}

func (r result) String() string {
	return fmt.Sprintf("movitera %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// run runs the CLI to completion (60s at most), stdin empty unless given.
func (u *user) run(args ...string) result {
	u.t.Helper()
	return u.runIn("", nil, args...)
}

// runIn runs the CLI with stdin and extra environment.
func (u *user) runIn(stdin string, extra map[string]string, args ...string) result {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, movitera, args...)
	cmd.Env = u.environ(extra)
	cmd.Dir = u.Home
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{Args: args, Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		r.Code = ee.ExitCode()
	case ctx.Err() != nil:
		u.t.Fatalf("movitera %s did not finish within 60s\n%s", strings.Join(args, " "), r)
	default:
		u.t.Fatalf("movitera %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// mustRun runs the CLI and fails the test unless it exits 0.
func (u *user) mustRun(args ...string) result {
	u.t.Helper()
	r := u.run(args...)
	if r.Code != 0 {
		u.t.Fatalf("expected exit 0:\n%s", r)
	}
	return r
}

// process is a CLI command running in the background.
type process struct {
	t      *testing.T
	args   []string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	code   int
	err    error
}

// start starts the CLI in the background with an empty stdin (not a
// terminal). It is killed when the test ends if still running.
func (u *user) start(extra map[string]string, args ...string) *process {
	u.t.Helper()
	cmd := exec.Command(movitera, args...)
	cmd.Env = u.environ(extra)
	cmd.Dir = u.Home
	p := &process{t: u.t, args: args, cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		u.t.Fatalf("starting movitera %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else {
			p.err = err
		}
		close(p.done)
	}()
	u.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitStderr waits until stderr matches re and returns the match.
func (p *process) waitStderr(re *regexp.Regexp, within time.Duration) []string {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
			return m
		}
		select {
		case <-p.done:
			if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
				return m
			}
			p.t.Fatalf("movitera %s exited (%d) before printing %s:\n--- stdout\n%s--- stderr\n%s",
				strings.Join(p.args, " "), p.code, re, p.stdout.String(), p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("movitera %s printed nothing matching %s within %s:\n--- stderr\n%s",
				strings.Join(p.args, " "), re, within, p.stderr.String())
		}
	}
}

// wait waits for the command to end and returns its result.
func (p *process) wait(within time.Duration) result {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("movitera %s did not end within %s:\n--- stdout\n%s--- stderr\n%s",
			strings.Join(p.args, " "), within, p.stdout.String(), p.stderr.String())
	}
	if p.err != nil {
		p.t.Fatalf("movitera %s: %v", strings.Join(p.args, " "), p.err)
	}
	return result{Args: p.args, Stdout: p.stdout.String(), Stderr: p.stderr.String(), Code: p.code}
}

// running reports whether the command is still running.
func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// The user code as printed by the CLI and shown on the page: XXXX-XXXX from
// RFC 8628's consonant alphabet.
var userCodeRe = regexp.MustCompile(`\b([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\b`)

// deviceLogin is a `movitera login` waiting for approval.
type deviceLogin struct {
	*process
	UserCode string
	URL      string // verification_uri_complete
}

// startLogin starts `movitera login --no-browser [args…]` and waits until
// it has printed the code and the verification URL on stderr.
func (u *user) startLogin(extra map[string]string, args ...string) *deviceLogin {
	u.t.Helper()
	p := u.start(extra, append([]string{"login", "--no-browser"}, args...)...)
	uriRe := regexp.MustCompile(`(?s)(` + regexp.QuoteMeta(u.srv.URL) + `/device\S*).*`)
	p.waitStderr(uriRe, 20*time.Second)
	m := p.waitStderr(userCodeRe, 5*time.Second)
	l := &deviceLogin{process: p, UserCode: m[1]}
	l.URL = u.srv.URL + "/device?user_code=" + l.UserCode
	if um := regexp.MustCompile(regexp.QuoteMeta(u.srv.URL) + `/device\?user_code=[A-Z-]+`).FindString(p.stderr.String()); um != "" {
		l.URL = um
	}
	return l
}

// syncBuffer is a bytes.Buffer safe for a writer and readers at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// listFiles lists every file under dir (relative paths), for checks that
// nothing was written in plain text.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// grepTree reports the files under dir whose content holds s.
func grepTree(t *testing.T, dir, s string) []string {
	t.Helper()
	var hits []string
	for _, f := range listFiles(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil && bytes.Contains(b, []byte(s)) {
			hits = append(hits, f)
		}
	}
	return hits
}
