package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// hangingBackend never answers until released.
type hangingBackend struct{ release chan struct{} }

func (h hangingBackend) Get(string, string) (string, error) { <-h.release; return "", nil }
func (h hangingBackend) Set(string, string, string) error   { <-h.release; return nil }
func (h hangingBackend) Delete(string, string) error        { <-h.release; return nil }

func TestKeyringTimeout(t *testing.T) {
	h := hangingBackend{release: make(chan struct{})}
	defer close(h.release)
	k := &Keyring{Timeout: 50 * time.Millisecond, Backend: h}
	for name, call := range map[string]func() error{
		"get":    func() error { _, err := k.Get(context.Background(), "http://h", "acme"); return err },
		"set":    func() error { return k.Set(context.Background(), "http://h", "acme", "mvc_x") },
		"delete": func() error { return k.Delete(context.Background(), "http://h", "acme") },
	} {
		err := call()
		want := "cannot use the system keyring (no answer within 50ms; a longer wait can be set with MOVITERA_KEYRING_TIMEOUT): log in with --insecure-storage to keep the token in a 0600 file, or set MOVITERA_TOKEN"
		var ue *UnavailableError
		if !errors.As(err, &ue) || err.Error() != want || !errors.Is(err, ErrTimeout) {
			t.Errorf("%s: got %v\nwant %s", name, err, want)
		}
	}
}

func TestKeyringHonoursContext(t *testing.T) {
	h := hangingBackend{release: make(chan struct{})}
	defer close(h.release)
	k := &Keyring{Timeout: time.Hour, Backend: h}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.Get(ctx, "http://h", "acme"); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// forgetful accepts writes and keeps nothing.
type forgetful struct{ *mapBackend }

func (forgetful) Set(string, string, string) error { return nil }

type mapBackend struct {
	mu sync.Mutex
	m  map[string]string
}

func (b *mapBackend) Get(s, u string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[s+"\x00"+u]
	if !ok {
		return "", errNotFoundGoKeyring
	}
	return v, nil
}
func (b *mapBackend) Set(s, u, p string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]string{}
	}
	b.m[s+"\x00"+u] = p
	return nil
}
func (b *mapBackend) Delete(s, u string) error { return nil }

func TestKeyringSetReadsBack(t *testing.T) {
	k := &Keyring{Timeout: time.Second, Backend: forgetful{&mapBackend{}}}
	err := k.Set(context.Background(), "http://h", "acme", "mvc_x")
	var ue *UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "gave back something else") {
		t.Fatalf("got %v", err)
	}
	// The entry goes under "movitera:<server>", user "<team>".
	b := &mapBackend{}
	k = &Keyring{Timeout: time.Second, Backend: b}
	must(t, k.Set(context.Background(), "http://h", "acme", "mvc_x"))
	if v := b.m["movitera:http://h\x00acme"]; v != "mvc_x" {
		t.Fatalf("entries: %v", b.m)
	}
}

func TestSessionBusCheck(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	no := func(string) bool { return false }
	yes := func(string) bool { return true }
	want := "cannot use the system keyring (no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set, as over SSH or in a container): log in with --insecure-storage to keep the token in a 0600 file, or set MOVITERA_TOKEN"
	for _, tc := range []struct {
		goos   string
		env    map[string]string
		exists func(string) bool
		ok     bool
	}{
		{"linux", nil, no, false},
		{"linux", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "autolaunch:"}, no, false},
		{"freebsd", nil, no, false},
		{"linux", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}, no, true},
		{"linux", nil, yes, true}, // /run/user/UID/bus, as the D-Bus library finds it
		{"darwin", nil, no, true},
		{"windows", nil, no, true},
	} {
		err := SessionBusCheck(tc.goos, env(tc.env), tc.exists)()
		if tc.ok != (err == nil) || (err != nil && err.Error() != want) {
			t.Errorf("%s %v: got %v", tc.goos, tc.env, err)
		}
	}
}

// The tests below drive the real go-keyring. They run in a child process,
// where go-keyring's MockInit has not replaced the Secret Service.

const childEnv = "MOVITERA_CREDENTIALS_TEST_CHILD"

func isChild() bool { return os.Getenv(childEnv) != "" }

// runChild runs the test named name alone in a child process, with extra
// environment, and fails if it fails. It returns the child's output.
func runChild(t *testing.T, name string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Log(out.String())
	if err != nil {
		t.Fatalf("child %s: %v", name, err)
	}
	return out.String()
}

// TestKeyringNoSessionBus: no D-Bus session at all. The store fails at
// once, naming the cause and both ways out, and launches nothing.
func TestKeyringNoSessionBus(t *testing.T) {
	if !isChild() {
		runChild(t, t.Name(), "DBUS_SESSION_BUS_ADDRESS=", "XDG_RUNTIME_DIR=")
		return
	}
	os.Unsetenv("DBUS_SESSION_BUS_ADDRESS")
	k := NewKeyring(5 * time.Second)
	if fileExists(fmt.Sprintf("/run/user/%d/bus", os.Getuid())) {
		t.Skip("this machine has a user bus at /run/user/UID/bus")
	}
	start := time.Now()
	_, err := k.Get(context.Background(), "http://h", "acme")
	var ue *UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "no D-Bus session") {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("took %s: the check must not wait for the keyring", time.Since(start))
	}
}

// TestKeyringSilentBus: a session bus socket that accepts and never
// answers. The store gives up after its timeout.
func TestKeyringSilentBus(t *testing.T) {
	if !isChild() {
		runChild(t, t.Name())
		return
	}
	sock := filepath.Join(t.TempDir(), "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
	k := NewKeyring(300 * time.Millisecond)
	_, err = k.Get(context.Background(), "http://h", "acme")
	want := "cannot use the system keyring (no answer within 300ms; a longer wait can be set with MOVITERA_KEYRING_TIMEOUT): log in with --insecure-storage to keep the token in a 0600 file, or set MOVITERA_TOKEN"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// TestKeyringSecretService runs the contract against the real Secret
// Service: inside dbus-run-session with an unlocked gnome-keyring
// (TESTING.md; make test-e2e and .ci/run do this). Elsewhere it skips,
// except in CI (CI=true), where a missing keyring is a failure.
func TestKeyringSecretService(t *testing.T) {
	if !isChild() {
		if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
			skipOrFail(t, "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set): run it inside dbus-run-session with gnome-keyring, as in make test-e2e")
		}
		out := runChild(t, t.Name())
		if strings.Contains(out, "--- SKIP") {
			skipOrFail(t, "the child skipped: see its output above")
		}
		return
	}
	k := NewKeyring(10 * time.Second)
	probe := fmt.Sprintf("https://contract-test.invalid/%d", time.Now().UnixNano())
	if _, err := k.Get(context.Background(), probe, "probe"); !errors.Is(err, ErrNotFound) {
		t.Skipf("no usable Secret Service on this bus (%v): run it inside dbus-run-session with an unlocked gnome-keyring, as in make test-e2e", err)
	}
	testContract(t, k, probe)
}

func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true requires the real keyring test: " + reason)
	}
	t.Skip(reason)
}
