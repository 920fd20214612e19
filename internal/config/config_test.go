package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func flags(args ...string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("server", "", "")
	fs.String("team", "", "")
	fs.Bool("debug", false, "")
	if err := fs.Parse(args); err != nil {
		panic(err)
	}
	return fs
}

func isolate(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("MOVITERA_CONFIG_DIR", dir)
	for _, k := range []string{"MOVITERA_SERVER", "MOVITERA_TEAM", "MOVITERA_TOKEN", "MOVITERA_OTP", "MOVITERA_DEBUG", "MOVITERA_KEYRING_TIMEOUT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return dir
}

func TestPrecedence(t *testing.T) {
	dir := isolate(t)
	c, err := Load(Options{Flags: flags()})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server != DefaultServer || c.Team != "" || c.KeyringTimeout != DefaultKeyringTimeout || c.Debug {
		t.Fatalf("defaults: %+v", c)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("server: http://file:1/\nteam: fileteam\nkeyring_timeout: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ = Load(Options{Flags: flags()})
	if c.Server != "http://file:1" || c.Team != "fileteam" || c.KeyringTimeout != 2*time.Second {
		t.Fatalf("file: %+v", c)
	}
	t.Setenv("MOVITERA_SERVER", "http://env:2")
	t.Setenv("MOVITERA_TEAM", "envteam")
	t.Setenv("MOVITERA_DEBUG", "true")
	c, _ = Load(Options{Flags: flags()})
	if c.Server != "http://env:2" || c.Team != "envteam" || !c.Debug {
		t.Fatalf("env: %+v", c)
	}
	c, _ = Load(Options{Flags: flags("--server", "https://flag:3", "--team", "flagteam")})
	if c.Server != "https://flag:3" || c.Team != "flagteam" {
		t.Fatalf("flag: %+v", c)
	}
}

func TestBadFiles(t *testing.T) {
	dir := isolate(t)
	if _, err := Load(Options{ConfigFile: filepath.Join(dir, "nope.yaml")}); err == nil || !strings.Contains(err.Error(), "nope.yaml does not exist") {
		t.Fatalf("named missing file: %v", err)
	}
	bad := filepath.Join(dir, "config.yaml")
	os.WriteFile(bad, []byte("server: [unclosed\n"), 0o600)
	if _, err := Load(Options{}); err == nil || !strings.Contains(err.Error(), "does not parse") {
		t.Fatalf("bad yaml: %v", err)
	}
	os.WriteFile(bad, []byte("server: ftp://x\n"), 0o600)
	var ce *Error
	if _, err := Load(Options{}); !errors.As(err, &ce) || ce.ExitCode() != 2 || err.Error() != `server in config file `+bad+`: invalid server URL "ftp://x": use http(s)://host[:port]` {
		t.Fatalf("bad url: %v", err)
	}
}

// A file that does not parse names the first real error; unknown keys are
// warned about, with the known ones, and do not fail.
func TestFileErrorsAndUnknownKeys(t *testing.T) {
	dir := isolate(t)
	file := filepath.Join(dir, "config.yaml")
	os.WriteFile(file, []byte("server: [a, b]\n"), 0o600)
	_, err := Load(Options{})
	if err == nil || !strings.Contains(err.Error(), "does not parse: yaml: unmarshal errors: line 1: cannot unmarshal !!seq into string; fix it or remove it") {
		t.Fatalf("got %v", err)
	}
	os.WriteFile(file, []byte("team: acme\nsevrer: http://x\ncolour: no\n"), 0o600)
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `config file ` + file + `: unknown keys "colour", "sevrer" ignored; the known keys are server, team, keyring_timeout, debug`
	if len(c.Warnings) != 1 || c.Warnings[0] != want {
		t.Fatalf("warnings %q\nwant %q", c.Warnings, want)
	}
}

// Invalid values are usage errors (exit 2) naming where they came from.
func TestInvalidValuesNameTheirSource(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"--server", "ftp://x"}, want: `--server: invalid server URL "ftp://x"`},
		{env: map[string]string{"MOVITERA_SERVER": "nope"}, want: `MOVITERA_SERVER: invalid server URL "nope"`},
		{args: []string{"--team", "Bad!"}, want: `--team: invalid team "Bad!": a team slug is lowercase letters, digits and dashes`},
		{env: map[string]string{"MOVITERA_TEAM": "a b"}, want: `MOVITERA_TEAM: invalid team "a b"`},
		{env: map[string]string{"MOVITERA_KEYRING_TIMEOUT": "soon"}, want: `MOVITERA_KEYRING_TIMEOUT: invalid keyring timeout "soon": use a duration such as 5s`},
		{env: map[string]string{"MOVITERA_KEYRING_TIMEOUT": "-1s"}, want: `MOVITERA_KEYRING_TIMEOUT: invalid keyring timeout "-1s"`},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		_, err := Load(Options{Flags: flags(tc.args...)})
		var ce *Error
		if !errors.As(err, &ce) || ce.ExitCode() != 2 || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want %q…", tc.args, tc.env, err, tc.want)
		}
		for k := range tc.env {
			os.Unsetenv(k)
		}
	}
}

// A server URL with a user name or password is refused, and the password
// is never quoted back.
func TestServerURLWithUserinfo(t *testing.T) {
	for _, s := range []string{"http://user:s3cret@127.0.0.1:1", "https://user@vault.example.com", "http://user:s3cret@bad host", "ftp://u:s3cret@x"} {
		_, err := NormalizeServer(s)
		if err == nil || err.Error() != "the server URL must not contain a user name or password: use http(s)://host[:port] and sign in with 'movitera login'" {
			t.Errorf("%s: got %v", s, err)
		}
	}
	if got, err := NormalizeServer("https://vault.example.com/"); err != nil || got != "https://vault.example.com" {
		t.Errorf("plain URL: %q %v", got, err)
	}
}

func TestLoosePermissionsAreTightened(t *testing.T) {
	dir := isolate(t)
	p := filepath.Join(dir, "config.yaml")
	os.WriteFile(p, []byte("team: acme\n"), 0o644)
	os.Chmod(p, 0o644)
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(p)
	if info.Mode().Perm() != 0o600 || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "it is now 0600") {
		t.Fatalf("mode %v, warnings %q", info.Mode().Perm(), c.Warnings)
	}
}

func TestSetTeamWritesAtomically(t *testing.T) {
	dir := filepath.Join(isolate(t), "sub")
	t.Setenv("MOVITERA_CONFIG_DIR", dir)
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetTeam("globex"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if string(data) != "team: globex\n" {
		t.Fatalf("file = %q", data)
	}
	fi, _ := os.Stat(filepath.Join(dir, "config.yaml"))
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes %v %v", fi.Mode(), di.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left-over files: %v", entries)
	}
	c2, _ := Load(Options{})
	if c2.Team != "globex" {
		t.Fatalf("team not persisted: %q", c2.Team)
	}
}

func TestSetLogin(t *testing.T) {
	dir := isolate(t)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("team: old\nkeyring_timeout: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{Flags: flags()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetLogin("https://vault.example.com/", "acme"); err != nil {
		t.Fatal(err)
	}
	if c.Server != "https://vault.example.com" || c.Team != "acme" {
		t.Fatalf("in memory: %+v", c)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if string(data) != "server: https://vault.example.com\nteam: acme\nkeyring_timeout: 2s\n" {
		t.Fatalf("file:\n%s", data)
	}
	info, _ := os.Stat(filepath.Join(dir, "config.yaml"))
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %#o", info.Mode().Perm())
	}
	if err := c.SetLogin("ftp://x", "acme"); err == nil {
		t.Fatal("SetLogin accepted ftp://x")
	}
}
