//go:build unix

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A config directory others can write to is made 0700 when the settings
// load, with a warning naming it and the mode it had.
func TestWritableDirIsTightened(t *testing.T) {
	dir := isolate(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "config directory " + dir + " was writable by others (mode 0777); it is now 0700"
	if fmt.Sprint(c.Warnings) != "["+want+"]" {
		t.Fatalf("warnings %q\nwant %q", c.Warnings, want)
	}
	assertPerm(t, dir, 0o700)
	// Tightened once: the next load has nothing to say.
	if c, err = Load(Options{}); err != nil || len(c.Warnings) != 0 {
		t.Fatalf("second load: %q, %v", c.Warnings, err)
	}
	// 0755 is not writable by others: left as it is.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if w, err := CheckDir(dir); w != "" || err != nil {
		t.Fatalf("0755: %q, %v", w, err)
	}
	assertPerm(t, dir, 0o755)
}

// CheckDir: a directory that does not exist yet passes; one that is a
// file, or another user's, does not.
func TestCheckDir(t *testing.T) {
	base := t.TempDir()
	if w, err := CheckDir(filepath.Join(base, "missing")); w != "" || err != nil {
		t.Fatalf("missing: %q, %v", w, err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	want := "cannot use the config directory " + file + ": not a directory"
	if _, err := CheckDir(file); err == nil || err.Error() != want {
		t.Fatalf("file: %v\nwant %s", err, want)
	}
	if os.Geteuid() != 0 {
		t.Skip("only root can give a directory to another user")
	}
	other := filepath.Join(base, "other")
	if err := os.Mkdir(other, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(other, 0o777); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("the config directory %s belongs to user id 65534, not to you (user id 0): movitera keeps credentials only in a directory you own; set MOVITERA_CONFIG_DIR to one", other)
	if _, err := CheckDir(other); err == nil || err.Error() != want {
		t.Fatalf("another user's: %v\nwant %s", err, want)
	}
	// Refused, not tightened: it is not ours to change.
	assertPerm(t, other, 0o777)
}

// A config file that is a symbolic link is read, but its target is never
// chmodded through it.
func TestSymlinkedFileNotTightened(t *testing.T) {
	dir := isolate(t)
	target := filepath.Join(t.TempDir(), "dotfiles.yaml")
	if err := os.WriteFile(target, []byte("team: acme\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, fileName)); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Team != "acme" || len(c.Warnings) != 0 {
		t.Fatalf("team %q, warnings %q", c.Team, c.Warnings)
	}
	assertPerm(t, target, 0o644)
}

func assertPerm(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Fatalf("%s: mode %#o, want %#o", path, got, want)
	}
}
