//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sessionBus is a private D-Bus session with a gnome-keyring on it: the real
// Secret Service, never the person's own keyring.
type sessionBus struct {
	t    *testing.T
	Addr string
	dir  string
}

// startBus starts a private dbus-daemon and a gnome-keyring-daemon on it,
// with its keyrings in a temporary directory. With locked, the login
// keyring exists (made and unlocked once) but the daemon that serves it was
// started without the password, so it is locked and no prompt can unlock it.
// The keyring daemon leaves with the bus, which ends with the test.
func startBus(t *testing.T, locked bool) *sessionBus {
	t.Helper()
	requireTools(t, "the keyring test", "dbus-daemon", "gnome-keyring-daemon", "secret-tool")
	dir := t.TempDir()
	b := &sessionBus{t: t, dir: dir}
	daemon := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	daemon.Env = baseEnv(map[string]string{"HOME": dir})
	out, err := daemon.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := daemon.Start(); err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	addrc := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addrc <- strings.TrimSpace(line)
	}()
	select {
	case b.Addr = <-addrc:
	case <-time.After(10 * time.Second):
	}
	if b.Addr == "" {
		t.Fatalf("dbus-daemon printed no address")
	}
	for _, d := range []string{"run", "data"} {
		os.MkdirAll(filepath.Join(dir, d), 0o700)
	}
	b.keyringDaemon("--unlock", "--replace", "--components=secrets")
	if locked {
		b.keyringDaemon("--replace", "--daemonize", "--components=secrets")
	}
	return b
}

func (b *sessionBus) env() map[string]string {
	return map[string]string{
		"DBUS_SESSION_BUS_ADDRESS": b.Addr,
		"HOME":                     b.dir,
		"XDG_RUNTIME_DIR":          filepath.Join(b.dir, "run"),
		"XDG_DATA_HOME":            filepath.Join(b.dir, "data"),
	}
}

func (b *sessionBus) keyringDaemon(args ...string) {
	b.t.Helper()
	kr := exec.Command("gnome-keyring-daemon", args...)
	kr.Env = baseEnv(b.env())
	kr.Stdin = strings.NewReader("e2e-keyring-password\n")
	if out, err := kr.CombinedOutput(); err != nil {
		b.t.Fatalf("gnome-keyring-daemon %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// secretTool runs secret-tool on the bus; it returns stdout and stderr
// together (search prints the attributes on stderr) and the exit code.
func (b *sessionBus) secretTool(args ...string) (string, int) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "secret-tool", args...)
	cmd.Env = baseEnv(b.env())
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		b.t.Fatalf("secret-tool %s: %v", strings.Join(args, " "), err)
	}
	return string(out), 0
}

// keyringItems are the Secret Service items of a server's tokens, as
// `secret-tool search --all service movitera:<server>` lists them.
type keyringItem struct {
	Secret string
	Attrs  map[string]string
}

func (b *sessionBus) items(server string) []keyringItem {
	b.t.Helper()
	out, code := b.secretTool("search", "--all", "service", "movitera:"+server)
	if code != 0 && strings.TrimSpace(out) != "" {
		b.t.Fatalf("secret-tool search: exit %d: %s", code, out)
	}
	var items []keyringItem
	var cur *keyringItem
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "["):
			items = append(items, keyringItem{Attrs: map[string]string{}})
			cur = &items[len(items)-1]
		case cur == nil:
		case strings.HasPrefix(line, "secret = "):
			cur.Secret = strings.TrimPrefix(line, "secret = ")
		case strings.HasPrefix(line, "attribute."):
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "attribute."), " = ")
			cur.Attrs[k] = v
		}
	}
	return items
}

// apiUser calls GET /api/v1/user with a bearer token and returns the status
// and the problem code.
func apiUser(t *testing.T, v *vault, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", v.URL+"/api/v1/user", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		Code string `json:"code"`
	}
	json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, p.Code
}

// noSecretOnDisk fails when a CLI secret (mvc_…) is in a file of the
// person's HOME or config directory.
func noSecretOnDisk(t *testing.T, u *user, when string) {
	t.Helper()
	for _, dir := range []string{u.ConfigDir, u.Home} {
		for _, f := range grepTree(t, dir, "mvc_") {
			t.Errorf("%s: a token was written in plain text to %s", when, filepath.Join(dir, f))
		}
	}
}

// loginApproved runs `movitera login` with the approval done over HTTP as
// soon as the code is shown. A login that fails before showing a code
// (a keyring checked first) is returned as it is.
func loginApproved(t *testing.T, u *user, c *pageClient, extra map[string]string, args ...string) result {
	t.Helper()
	p := u.start(extra, append([]string{"login", "--no-browser"}, args...)...)
	deadline := time.Now().Add(20 * time.Second)
	for p.running() && !userCodeRe.MatchString(p.stderr.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("login printed no code within 20s:\n%s", p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m := userCodeRe.FindStringSubmatch(p.stderr.String()); m != nil {
		c.approve(u.srv, u.srv.URL+"/device?user_code="+m[1], false)
	}
	return p.wait(30 * time.Second)
}

// TestKeyringLoginStatusLogout: login stores the token in the real Secret
// Service, secret-tool finds it, status and tokens list use it, logout
// revokes and removes it.
func TestKeyringLoginStatusLogout(t *testing.T) {
	t.Parallel()
	bus := startBus(t, false)
	v := startServer(t, serverOptions{})
	u := newUser(t, v)
	u.setenv("DBUS_SESSION_BUS_ADDRESS", bus.Addr)
	c := newPageClient(t, v)

	r := loginApproved(t, u, c, nil)
	if r.Code != 0 {
		t.Fatalf("login with an unlocked keyring:\n%s", r)
	}
	if want := "\n✓ Logged in to " + v.URL + " as " + v.Dev.Email + " (team acme, manager); token stored in the system keyring\n"; !strings.HasSuffix(r.Stderr, want) {
		t.Errorf("login does not end with %q:\n%s", want, r.Stderr)
	}
	items := bus.items(v.URL)
	if len(items) != 1 {
		t.Fatalf("secret-tool search --all service movitera:%s: want 1 item, got %d: %+v", v.URL, len(items), items)
	}
	secret := items[0].Secret
	if !regexp.MustCompile(`^mvc_[0-9A-Za-z]{38}$`).MatchString(secret) {
		t.Errorf("the keyring holds %q, not a CLI secret", redact(secret))
	}
	if got := items[0].Attrs["username"]; got != "acme" {
		t.Errorf("the keyring item's username (team) is %q, want acme; attributes %v", got, items[0].Attrs)
	}
	if code, _ := apiUser(t, v, secret); code != http.StatusOK {
		t.Errorf("the stored secret does not work against the server: status %d", code)
	}
	noSecretOnDisk(t, u, "login to the keyring")

	st := u.mustRun("status")
	for _, re := range []string{
		`(?m)^User:\s+.*<` + regexp.QuoteMeta(v.Dev.Email) + `>$`,
		`(?m)^Team:\s+acme \(manager\)$`,
		`(?m)^Token:\s+.* · cli \(CLI, ` + regexp.QuoteMeta(secret[:12]) + `\)$`,
		`(?m)^Stored in:\s+the system keyring$`,
	} {
		if !regexp.MustCompile(re).MatchString(st.Stdout) {
			t.Errorf("status does not match %s:\n%s", re, st)
		}
	}
	if storage := statusStorage(t, u, nil); storage.Kind != "keyring" {
		t.Errorf("status --json: storage %+v, want kind keyring", storage)
	}

	list := u.mustRun("tokens", "list", "--json")
	var toks []struct {
		ID, Name, Type, Prefix, State string
	}
	if err := json.Unmarshal([]byte(list.Stdout), &toks); err != nil {
		t.Fatalf("tokens list --json: %v\n%s", err, list)
	}
	found := false
	for _, tk := range toks {
		if tk.Prefix == secret[:12] {
			found = true
			if tk.Type != "cli" || !strings.HasSuffix(tk.Name, "· cli") {
				t.Errorf("the login's token is listed as %+v, want type cli named \"<host> · cli\"", tk)
			}
		}
	}
	if !found {
		t.Errorf("tokens list (with the keyring's token) does not list the login's token %s: %+v", secret[:12], toks)
	}

	out := u.mustRun("logout", "--yes")
	if want := "✓ Logged out of " + v.URL + " (team acme): token " + secret[:12] + " revoked and removed from the system keyring\n"; out.Stderr != want {
		t.Errorf("logout --yes:\n got %q\nwant %q", out.Stderr, want)
	}
	if items := bus.items(v.URL); len(items) != 0 {
		t.Errorf("after logout the keyring still holds %d item(s)\n%s", len(items), out)
	}
	if code, problem := apiUser(t, v, secret); code != http.StatusUnauthorized || problem != "token_revoked" {
		t.Errorf("after logout the token answers %d %q, want 401 token_revoked", code, problem)
	}
	if st := u.run("status"); st.Code != 4 {
		t.Errorf("status after logout: want exit 4:\n%s", st)
	}
}

// TestKeyringUnavailable: with no keyring (no bus) or a locked one, login
// fails naming the cause and both ways out, and writes nothing in plain
// text; --insecure-storage then writes a 0600 file that status reports, and
// MOVITERA_TOKEN works without any keyring.
func TestKeyringUnavailable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		bus  func(t *testing.T) string
	}{
		{"absent", func(t *testing.T) string { return "unix:path=/nonexistent" }},
		{"locked", func(t *testing.T) string { return startBus(t, true).Addr }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := tc.bus(t)
			v := startServer(t, serverOptions{})
			u := newUser(t, v)
			u.setenv("DBUS_SESSION_BUS_ADDRESS", addr)
			u.setenv("MOVITERA_KEYRING_TIMEOUT", "5s")
			c := newPageClient(t, v)

			r := loginApproved(t, u, c, nil)
			if r.Code == 0 {
				t.Fatalf("login with the keyring %s exited 0:\n%s", tc.name, r)
			}
			errRe := regexp.MustCompile(`(?m)^error: cannot use the system keyring \((.+)\): log in with --insecure-storage to keep the token in a 0600 file, or set MOVITERA_TOKEN$`)
			if m := errRe.FindStringSubmatch(r.Stderr); m == nil {
				t.Errorf("login's error does not name the cause and both ways out:\n%s", r.Stderr)
			} else {
				t.Logf("keyring %s: the cause given: %s", tc.name, m[1])
			}
			if regexp.MustCompile(`(?i)logged in`).MatchString(r.Stderr) && !regexp.MustCompile(`(?i)not logged in`).MatchString(r.Stderr) {
				t.Errorf("login says \"logged in\" though nothing was stored:\n%s", r.Stderr)
			}
			if files := listFiles(t, u.ConfigDir); len(files) > 0 {
				for _, f := range files {
					if strings.Contains(f, "credentials") {
						t.Errorf("login without --insecure-storage wrote %s", f)
					}
				}
			}
			noSecretOnDisk(t, u, "login without a usable keyring")
			if st := u.run("status"); st.Code != 4 {
				t.Errorf("status after the failed login: want exit 4:\n%s", st)
			}

			r = loginApproved(t, u, c, nil, "--insecure-storage")
			if r.Code != 0 {
				t.Fatalf("login --insecure-storage:\n%s", r)
			}
			file := filepath.Join(u.ConfigDir, "credentials.json")
			info, err := os.Stat(file)
			if err != nil {
				t.Fatalf("login --insecure-storage wrote no %s (config dir holds %v): %v", file, listFiles(t, u.ConfigDir), err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %#o, want 0600", file, info.Mode().Perm())
			}
			if want := "; token stored in " + file + " (plain text, 0600; --insecure-storage)\n"; !strings.HasSuffix(r.Stderr, want) {
				t.Errorf("login --insecure-storage does not end with %q:\n%s", want, r.Stderr)
			}
			st := u.mustRun("status")
			if !regexp.MustCompile(`(?m)^Stored in:\s+` + regexp.QuoteMeta(file) + ` \(plain text, 0600; --insecure-storage\)$`).MatchString(st.Stdout) {
				t.Errorf("status does not report the file %s:\n%s", file, st)
			}
			if storage := statusStorage(t, u, nil); storage.Kind != "file" || storage.Location != file {
				t.Errorf("status --json: storage %+v, want kind file at %s", storage, file)
			}

			// A token from the environment needs no keyring at all.
			env := newUser(t, v)
			env.setenv("DBUS_SESSION_BUS_ADDRESS", addr)
			st = env.runIn("", map[string]string{"MOVITERA_TOKEN": v.Dev.Token}, "status")
			if st.Code != 0 || !strings.Contains(st.Stdout+st.Stderr, v.Dev.Email) {
				t.Errorf("status with MOVITERA_TOKEN and the keyring %s:\n%s", tc.name, st)
			}
			if !regexp.MustCompile(`(?m)^Stored in:\s+the environment \(MOVITERA_TOKEN\)$`).MatchString(st.Stdout) {
				t.Errorf("status does not say the credential comes from the environment:\n%s", st)
			}
			if files := listFiles(t, env.ConfigDir); len(files) > 0 {
				t.Errorf("status with MOVITERA_TOKEN wrote %v", files)
			}
		})
	}
}

type storage struct {
	Kind     string `json:"kind"`
	Location string `json:"location"`
}

// statusStorage is the storage object of `status --json`.
func statusStorage(t *testing.T, u *user, extra map[string]string) storage {
	t.Helper()
	r := u.runIn("", extra, "status", "--json")
	var st struct {
		Storage storage `json:"storage"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &st) != nil {
		t.Errorf("status --json:\n%s", r)
	}
	return st.Storage
}

// redact shortens a secret for a failure message.
func redact(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}
