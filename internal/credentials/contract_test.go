package credentials

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// testContract is the one test every Store passes. server is unique per
// run, so that a real keyring is left as it was found.
func testContract(t *testing.T, s Store, server string) {
	ctx := context.Background()
	other := server + "/other"
	t.Cleanup(func() {
		for _, sv := range []string{server, other} {
			for _, team := range []string{"acme", "globex"} {
				_ = s.Delete(ctx, sv, team)
			}
		}
	})

	if _, err := s.Get(ctx, server, "acme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of nothing: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, server, "acme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete of nothing: %v, want ErrNotFound", err)
	}
	must(t, s.Set(ctx, server, "acme", "mvc_one"))
	must(t, s.Set(ctx, server, "globex", "mvc_two"))
	must(t, s.Set(ctx, other, "acme", "mvc_three"))
	expect(t, s, server, "acme", "mvc_one")
	expect(t, s, server, "globex", "mvc_two")
	expect(t, s, other, "acme", "mvc_three")

	must(t, s.Set(ctx, server, "acme", "mvc_replaced"))
	expect(t, s, server, "acme", "mvc_replaced")

	must(t, s.Delete(ctx, server, "acme"))
	if _, err := s.Get(ctx, server, "acme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	// Other teams and servers are left alone.
	expect(t, s, server, "globex", "mvc_two")
	expect(t, s, other, "acme", "mvc_three")

	// DeleteIf removes the token it is given, and no other.
	must(t, s.Set(ctx, server, "acme", "mvc_new"))
	if err := s.DeleteIf(ctx, server, "acme", "mvc_replaced"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteIf of a replaced token: %v, want ErrNotFound", err)
	}
	expect(t, s, server, "acme", "mvc_new")
	must(t, s.DeleteIf(ctx, server, "acme", "mvc_new"))
	if _, err := s.Get(ctx, server, "acme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after DeleteIf: %v, want ErrNotFound", err)
	}
	if err := s.DeleteIf(ctx, server, "acme", "mvc_new"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteIf of nothing: %v, want ErrNotFound", err)
	}
	expect(t, s, server, "globex", "mvc_two")
	expect(t, s, other, "acme", "mvc_three")

	for _, bad := range [][3]string{{"", "acme", "x"}, {server, "", "x"}, {server, "acme", ""}} {
		if err := s.Set(ctx, bad[0], bad[1], bad[2]); err == nil {
			t.Fatalf("Set(%q, %q, %q) succeeded", bad[0], bad[1], bad[2])
		}
	}
	if s.Name() == "" || s.Location() == "" {
		t.Fatalf("Name %q, Location %q", s.Name(), s.Location())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func expect(t *testing.T, s Store, server, team, want string) {
	t.Helper()
	got, err := s.Get(context.Background(), server, team)
	if err != nil || got != want {
		t.Fatalf("Get(%s, %s) = %q, %v; want %q", server, team, got, err, want)
	}
}

func TestMemoryContract(t *testing.T) {
	testContract(t, NewMemory(), "http://127.0.0.1:8270")
}

func TestFileContract(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config")
	s := NewFile(dir)
	testContract(t, s, "http://127.0.0.1:8270")
	assertMode(t, dir, 0o700)
	assertMode(t, s.Path, 0o600)
	must(t, s.Delete(context.Background(), "http://127.0.0.1:8270", "globex"))
	must(t, s.Delete(context.Background(), "http://127.0.0.1:8270/other", "acme"))
	if _, err := os.Stat(s.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the file outlived its last entry: %v", err)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Fatalf("%s: mode %#o, want %#o", path, got, want)
	}
}

func TestFileTightensLooseMode(t *testing.T) {
	dir := t.TempDir()
	s := NewFile(dir)
	var warned string
	s.Warn = func(w string) { warned = w }
	must(t, s.Set(context.Background(), "http://h", "acme", "mvc_x"))
	must(t, os.Chmod(s.Path, 0o644))
	expect(t, s, "http://h", "acme", "mvc_x")
	assertMode(t, s.Path, 0o600)
	if warned == "" {
		t.Fatal("no warning about the loose mode")
	}
}

func TestFileRefusesGarbage(t *testing.T) {
	s := NewFile(t.TempDir())
	must(t, os.WriteFile(s.Path, []byte("{not json"), 0o600))
	_, err := s.Get(context.Background(), "http://h", "acme")
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a broken file: %v", err)
	}
}

// TestKeyringMockContract runs the contract on go-keyring's mock. MockInit
// swaps go-keyring's provider for the whole process, so tests of the real
// Secret Service run in a child process (runChild).
func TestKeyringMockContract(t *testing.T) {
	if isChild() {
		t.Skip("child process")
	}
	gokeyring.MockInit()
	k := &Keyring{Timeout: time.Second, Backend: GoKeyring{}}
	testContract(t, k, "http://127.0.0.1:8270")
}

func TestKeyringMockErrorIsUnavailable(t *testing.T) {
	if isChild() {
		t.Skip("child process")
	}
	gokeyring.MockInitWithError(errors.New("org.freedesktop.secrets was not provided by any .service files"))
	defer gokeyring.MockInit()
	k := &Keyring{Timeout: time.Second, Backend: GoKeyring{}}
	err := k.Set(context.Background(), "http://h", "acme", "mvc_x")
	want := "cannot use the system keyring (org.freedesktop.secrets was not provided by any .service files): log in with --insecure-storage to keep the token in a 0600 file, or set MOVITERA_TOKEN"
	var ue *UnavailableError
	if !errors.As(err, &ue) || err.Error() != want || errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
