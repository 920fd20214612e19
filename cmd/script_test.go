package cmd_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/movitera/movitera/cmd"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/server"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"movitera":     func() { os.Exit(cmd.Main()) },
		"fake-browser": fakeBrowser,
		"silent-bus":   silentBus,
		"gate-bus":     gateBus,
	})
}

// fakeBrowser stands in for a person's browser: it records the URL it is
// asked to open in $WORK/browser-url, where the approve command finds it.
func fakeBrowser() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "fake-browser: no URL")
		os.Exit(2)
	}
	f, err := os.OpenFile(filepath.Join(os.Getenv("WORK"), "browser-url"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err == nil {
		fmt.Fprintln(f, os.Args[len(os.Args)-1])
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake-browser:", err)
		os.Exit(1)
	}
}

// silentBus listens on a unix socket (its argument) and accepts
// connections without ever answering: a D-Bus session bus that hangs. Each
// connection is recorded by creating SOCKET.touched, so that scripts can
// prove a command never went near the keyring. Run it in the background;
// the script's end kills it.
func silentBus() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: silent-bus SOCKET")
		os.Exit(2)
	}
	ln, err := net.Listen("unix", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "silent-bus:", err)
		os.Exit(1)
	}
	held := map[net.Conn]bool{} // open and unanswered, like a hung bus
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(0)
		}
		held[c] = true
		os.WriteFile(os.Args[1]+".touched", nil, 0o600)
	}
}

// TestScripts runs cmd/testdata/script/*.txtar: the movitera binary
// against a real movitera server (in process, real SQLite file) per script.
func TestScripts(t *testing.T) {
	bus := startKeyring(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") == "1",
		Setup:               func(env *testscript.Env) error { return setupScript(env, bus) },
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "keyring":
				return bus.ok, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"approve":   cmdApprove,
			"totp":      cmdTOTP,
			"clock":     cmdClock,
			"authproxy": cmdAuthProxy,
		},
	})
}

// scriptServer is one script's vault.
type scriptServer struct {
	srv    *server.Server
	url    string
	offset atomic.Int64 // the server clock's offset, in nanoseconds
	dev    *server.DevCredentials
	totp   *totpSteps
	proxy  *authProxy // started by the script's first "authproxy"
}

type serverKey struct{}

func setupScript(env *testscript.Env, bus keyringBus) error {
	ss := &scriptServer{}
	dataDir := filepath.Join(env.WorkDir, ".server")
	srv, err := server.Open(context.Background(), server.Config{
		DataDir:      dataDir,
		Dev:          true,
		PollInterval: time.Second,
		Now:          func() time.Time { return time.Now().Add(time.Duration(ss.offset.Load())) },
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return err
	}
	hs := &http.Server{Handler: recordRevocations(srv.Handler(), filepath.Join(env.WorkDir, "revoked")), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	ss.srv, ss.url = srv, "http://"+ln.Addr().String()
	env.Defer(func() {
		hs.Close()
		srv.Close()
	})
	ss.dev, err = srv.SetupDev(ss.url)
	if err != nil {
		return err
	}
	ss.totp = &totpSteps{secret: ss.dev.TOTPSecret, used: map[int64]bool{}}
	env.Values[serverKey{}] = ss

	home := filepath.Join(env.WorkDir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	busAddr := "unix:path=" + filepath.Join(env.WorkDir, "no-bus")
	if bus.ok {
		busAddr = bus.addr
	}
	for k, v := range map[string]string{
		"MOVITERA_SERVER":          ss.url,
		"MOVITERA_CONFIG_DIR":      filepath.Join(env.WorkDir, "config"),
		"HOME":                     home,
		"XDG_CONFIG_HOME":          filepath.Join(home, ".config"),
		"XDG_DATA_HOME":            filepath.Join(home, ".local", "share"),
		"DBUS_SESSION_BUS_ADDRESS": busAddr,
		"DEV_EMAIL":                ss.dev.Email,
		"DEV_PASSWORD":             ss.dev.Password,
		"DEV_TOTP_SECRET":          ss.dev.TOTPSecret,
		"DEV_TOKEN":                ss.dev.Token,
		"DEV_TOKEN_PREFIX":         movitera.DisplayPrefix(ss.dev.Token),
		"DEV_TEAM":                 "acme",
		"DEV_MEMBER_TEAM":          "globex",
		"DEV_CREDENTIALS":          filepath.Join(dataDir, "dev-credentials.json"),
		"CI":                       os.Getenv("CI"),
		"TZ":                       "UTC",
	} {
		env.Setenv(k, v)
	}
	return nil
}

// recordRevocations creates file once the server has handled a
// revocation (POST /oauth/revoke), so that a script, or gate-bus
// -release-on, can wait for login to have revoked a token.
func recordRevocations(h http.Handler, file string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.Method == http.MethodPost && r.URL.Path == "/oauth/revoke" {
			os.WriteFile(file, nil, 0o600)
		}
	})
}

func scriptServerOf(ts *testscript.TestScript) *scriptServer {
	return ts.Value(serverKey{}).(*scriptServer)
}

// cmdClock moves the server's clock: "clock +8d", "clock -30m", "clock reset".
func cmdClock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: clock +DURATION|-DURATION|reset (d for days allowed)")
	}
	ss := scriptServerOf(ts)
	if args[0] == "reset" {
		ss.offset.Store(0)
		return
	}
	d, err := parseOffset(args[0])
	if err != nil {
		ts.Fatalf("clock: %v", err)
	}
	ss.offset.Add(int64(d))
}

func parseOffset(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		var n int
		if _, err := fmt.Sscanf(s, "%dd", &n); err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// keyringBus is a private D-Bus session with an unlocked gnome-keyring.
type keyringBus struct {
	ok   bool
	addr string
}

// startKeyring starts a private session bus and an unlocked gnome-keyring
// for the scripts, so that the real Secret Service is used and the host's
// keyring never is. Without the tools the [keyring] scripts skip, except in
// CI, where that is a failure.
func startKeyring(t *testing.T) keyringBus {
	fail := func(format string, a ...any) keyringBus {
		if os.Getenv("CI") != "" {
			t.Fatalf("real keyring needed in CI: "+format, a...)
		}
		t.Logf("scripts needing [keyring] will skip: "+format, a...)
		return keyringBus{}
	}
	for _, tool := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fail("%s not installed (apt-get install dbus gnome-keyring)", tool)
		}
	}
	dir := t.TempDir()
	daemon := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := daemon.StdoutPipe()
	if err != nil {
		return fail("%v", err)
	}
	if err := daemon.Start(); err != nil {
		return fail("dbus-daemon: %v", err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	addrCh := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addrCh <- strings.TrimSpace(line)
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case <-time.After(10 * time.Second):
		return fail("dbus-daemon printed no address")
	}
	if addr == "" {
		return fail("dbus-daemon printed no address")
	}
	kr := exec.Command("gnome-keyring-daemon", "--unlock", "--replace", "--components=secrets")
	kr.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr, "HOME="+dir, "XDG_RUNTIME_DIR="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"))
	kr.Stdin = strings.NewReader("test-keyring-password\n")
	if b, err := kr.CombinedOutput(); err != nil {
		return fail("gnome-keyring-daemon: %v: %s", err, b)
	}
	return keyringBus{ok: true, addr: addr}
}
