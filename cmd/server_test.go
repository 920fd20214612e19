package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/iostreams"
	"github.com/movitera/movitera/internal/server"
)

func TestServerFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--addr", "0.0.0.0:8270"},
		{"--addr", ":8270"},
		{"--addr", "192.168.1.10:8270"},
		{"--addr", "nonsense"},
		{"--tls-cert", "c.pem"},
		{"--addr", "0.0.0.0:8443", "--tls-key", "k.pem"},
		{"--poll-interval", "0"},
		{"--device-code-ttl", "1s"},
		{"--log-level", "loud"},
		{"--public-url", "vault.example.com"},
		{"--public-url", "https://vault.example.com/?x=1"},
		{"--trusted-proxy", "10.0.0.0/33"},
		{"--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "proxy.example.com"},
		{"extra"},
	} {
		ios, _, _, _ := iostreams.Test()
		cmd := newServerCmd(&cmdutil.Factory{IO: ios})
		cmd.SetArgs(append(args, "--data-dir", t.TempDir()))
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.ExecuteContext(context.Background())
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) && !strings.Contains(strings.Join(args, " "), "extra") {
			t.Errorf("%v: got %v; want a usage error", args, err)
		}
		if err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost", "127.0.0.2"} {
		if !isLoopback(host) {
			t.Errorf("%s is loopback", host)
		}
	}
}

func TestServerDevRunsAndStops(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var errOut bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var url string
	var status int
	start := time.Now()
	var startup time.Duration
	opts := &serverOptions{
		Addr: "127.0.0.1:0", DataDir: dir, Dev: true, LogLevel: "info", PollInterval: 5, DeviceCodeTTL: 15 * time.Minute,
		errOut: &errOut,
		ready: func(u string) {
			startup = time.Since(start)
			url = u
			go func() {
				defer cancel()
				b, err := os.ReadFile(filepath.Join(dir, "dev-credentials.json"))
				if err != nil {
					return
				}
				var c server.DevCredentials
				json.Unmarshal(b, &c)
				req, _ := http.NewRequest("GET", u+"/api/v1/user?secret=hidden", nil)
				req.Header.Set("Authorization", "Bearer "+c.Token)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					status = resp.StatusCode
					resp.Body.Close()
				}
			}()
		},
	}
	if err := runServer(ctx, opts); err != nil {
		t.Fatal(err)
	}
	out := errOut.String()
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*$`).MatchString(url) {
		t.Fatalf("url %q", url)
	}
	if status != 200 {
		t.Fatalf("dev token answered %d\n%s", status, out)
	}
	if startup > time.Second {
		t.Errorf("start-up took %v", startup)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "dev-credentials.json"))
	var c server.DevCredentials
	json.Unmarshal(b, &c)
	for _, want := range []string{"movitera server listening on " + url + "\n", "MOVITERA_SERVER=" + url + " movitera login",
		c.Password, c.TOTPSecret, c.Token, "path=/api/v1/user status=200", "movitera server stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("query string logged:\n%s", out)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode: %v %v", st.Mode(), err)
	}
}

func TestDefaultDataDir(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/x/data")
	if d, _ := defaultDataDir(); d != "/x/data/movitera" {
		t.Errorf("with XDG_DATA_HOME: %s", d)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/p")
	if d, _ := defaultDataDir(); d != "/home/p/.local/share/movitera" {
		t.Errorf("without XDG_DATA_HOME: %s", d)
	}
}

func TestServerPublicURL(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var uri string
	opts := &serverOptions{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "off", PollInterval: 5, DeviceCodeTTL: 15 * time.Minute,
		PublicURL: "https://vault.example.com/", errOut: &bytes.Buffer{},
		ready: func(u string) {
			go func() {
				defer cancel()
				resp, err := http.PostForm(u+"/oauth/device/code", map[string][]string{"client_id": {"movitera-cli"}})
				if err != nil {
					return
				}
				defer resp.Body.Close()
				var d struct {
					URI string `json:"verification_uri"`
				}
				json.NewDecoder(resp.Body).Decode(&d)
				uri = d.URI
			}()
		},
	}
	if err := runServer(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if uri != "https://vault.example.com/device" {
		t.Fatalf("verification_uri %q; want the --public-url", uri)
	}
}

// A bad --trusted-proxy is a usage error (exit 2) that names the value and
// says what to write instead: a malformed one, a /0 (which would let any
// client name its own address), and a CIDR with host bits set (the network,
// or the one address?). Nothing is started or written.
func TestServerTrustedProxyFlagError(t *testing.T) {
	const trustAll = "a /0 trusts every address, so any client could name its own in X-Forwarded-For and escape the per-address limits; give the networks of your proxies only"
	for _, c := range []struct{ value, want string }{
		{"10.0.0.0/33", "use a CIDR such as 10.0.0.0/8 or 2001:db8::/32, or one address"},
		{"0.0.0.0/0", trustAll},
		{"::/0", trustAll},
		{"::ffff:0.0.0.0/96", trustAll},
		{"192.0.2.1/0", trustAll},
		{"10.0.0.1/8", "host bits are set: write 10.0.0.0/8 for the network, or 10.0.0.1 for one address"},
		{"2001:db8::1/32", "host bits are set: write 2001:db8::/32 for the network, or 2001:db8::1 for one address"},
		{"::ffff:10.0.0.1/104", "host bits are set: write 10.0.0.0/8 for the network, or 10.0.0.1 for one address"},
	} {
		ios, _, stdout, stderr := iostreams.Test()
		dir := filepath.Join(t.TempDir(), "data")
		cmd := newServerCmd(&cmdutil.Factory{IO: ios})
		cmd.SetArgs([]string{"--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", c.value, "--addr", "127.0.0.1:0", "--data-dir", dir})
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // were the value accepted, the server would stop at once
		err := cmd.ExecuteContext(ctx)
		want := fmt.Sprintf("invalid --trusted-proxy %q: %s", c.value, c.want)
		if err == nil || err.Error() != want || cmdutil.ExitCode(err) != 2 {
			t.Errorf("--trusted-proxy %s: got %v (exit %d); want %q, exit 2", c.value, err, cmdutil.ExitCode(err), want)
		}
		if stdout.Len() != 0 || stderr.Len() != 0 {
			t.Errorf("--trusted-proxy %s: printed %q %q", c.value, stdout, stderr)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("--trusted-proxy %s: the data directory was made (%v)", c.value, err)
		}
	}
}

// --trusted-proxy reaches the server: from a trusted peer, the request log
// names the client of X-Forwarded-For; the header of an untrusted one is
// ignored.
func TestServerTrustedProxy(t *testing.T) {
	for _, c := range []struct {
		proxies    []string
		want, note string
	}{
		{[]string{"10.0.0.0/8", "127.0.0.1"}, "client_ip=198.51.100.9", "10.0.0.0/8, 127.0.0.1/32"},
		{[]string{"10.0.0.0/8"}, "client_ip=127.0.0.1", "10.0.0.0/8"},
		{nil, "client_ip=127.0.0.1", ""},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		var errOut bytes.Buffer
		status := 0
		opts := &serverOptions{
			Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "info", PollInterval: 5, DeviceCodeTTL: 15 * time.Minute,
			Grace: server.DefaultGrace, TrustedProxy: c.proxies, errOut: &errOut,
			ready: func(u string) {
				go func() {
					defer cancel()
					req, _ := http.NewRequest("GET", u+"/api/v1/user", nil)
					req.Header.Set("X-Forwarded-For", "203.0.113.1, 198.51.100.9")
					if resp, err := http.DefaultClient.Do(req); err == nil {
						status = resp.StatusCode
						resp.Body.Close()
					}
				}()
			},
		}
		if err := opts.validate(); err != nil {
			t.Fatal(err)
		}
		if err := runServer(ctx, opts); err != nil {
			t.Fatal(err)
		}
		out := errOut.String()
		line := regexp.MustCompile(`(?m)^.* path=/api/v1/user .*$`).FindString(out)
		note := ""
		if c.note != "" {
			note = "movitera server: client addresses from X-Forwarded-For when the peer is in " + c.note + "\n"
		}
		if got := regexp.MustCompile(`(?m)^.*X-Forwarded-For.*\n`).FindString(out); got != note {
			t.Errorf("--trusted-proxy %v: start-up note %q; want %q", c.proxies, got, note)
		}
		if status != 401 || !strings.Contains(line+" ", " "+c.want+" ") {
			t.Errorf("--trusted-proxy %v: status %d, log line %q; want 401 and %s\n%s", c.proxies, status, line, c.want, out)
		}
	}
}
