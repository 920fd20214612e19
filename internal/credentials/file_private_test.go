//go:build unix

package credentials

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A symbolic link planted as the lock file is not followed: no write
// creates its target, and the error names the link. O_NOFOLLOW stops
// root as well.
func TestFileLockSymlinkRefused(t *testing.T) {
	ctx := context.Background()
	s := NewFile(t.TempDir())
	target := filepath.Join(t.TempDir(), "planted")
	must(t, os.Symlink(target, s.Path+".lock"))
	want := s.Path + ".lock is a symbolic link; movitera keeps credentials only in a regular file it owns"
	for name, call := range map[string]func() error{
		"set":      func() error { return s.Set(ctx, "http://h", "acme", "mvc_x") },
		"delete":   func() error { return s.Delete(ctx, "http://h", "acme") },
		"deleteif": func() error { return s.DeleteIf(ctx, "http://h", "acme", "mvc_x") },
	} {
		if err := call(); err == nil || err.Error() != want {
			t.Errorf("%s: got %v\nwant %s", name, err, want)
		}
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the link's target was created: %v", err)
	}
	if _, err := os.Lstat(s.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the credentials file was written: %v", err)
	}
}

// A symbolic link as the credentials file is neither read nor written, and
// its target keeps its content and its mode: it is not chmodded through
// the link.
func TestFileSymlinkRefused(t *testing.T) {
	ctx := context.Background()
	s := NewFile(t.TempDir())
	target := filepath.Join(t.TempDir(), "elsewhere.json")
	content := `{"credentials":[{"server":"http://h","team":"acme","token":"mvc_planted"}]}` + "\n"
	must(t, os.WriteFile(target, []byte(content), 0o644))
	must(t, os.Chmod(target, 0o644))
	must(t, os.Symlink(target, s.Path))
	var warned []string
	s.Warn = func(w string) { warned = append(warned, w) }

	want := s.Path + " is a symbolic link; movitera keeps credentials only in a regular file it owns"
	if tok, err := s.Get(ctx, "http://h", "acme"); err == nil || err.Error() != want {
		t.Fatalf("Get: got %q, %v\nwant %s", tok, err, want)
	}
	if err := s.Set(ctx, "http://h", "acme", "mvc_x"); err == nil || err.Error() != want {
		t.Fatalf("Set: got %v\nwant %s", err, want)
	}
	if err := s.Delete(ctx, "http://h", "acme"); err == nil || err.Error() != want {
		t.Fatalf("Delete: got %v\nwant %s", err, want)
	}
	assertMode(t, target, 0o644)
	if data, err := os.ReadFile(target); err != nil || string(data) != content {
		t.Fatalf("the target changed: %q, %v", data, err)
	}
	if info, err := os.Lstat(s.Path); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v, %v", info, err)
	}
	if len(warned) != 0 {
		t.Fatalf("warnings: %q", warned)
	}

	// A dangling link: nothing is created where it points.
	s = NewFile(t.TempDir())
	dangling := filepath.Join(t.TempDir(), "nothing-yet.json")
	must(t, os.Symlink(dangling, s.Path))
	want = s.Path + " is a symbolic link; movitera keeps credentials only in a regular file it owns"
	if err := s.Set(ctx, "http://h", "acme", "mvc_x"); err == nil || err.Error() != want {
		t.Fatalf("Set through a dangling link: got %v\nwant %s", err, want)
	}
	if _, err := s.Get(ctx, "http://h", "acme"); err == nil || err.Error() != want {
		t.Fatalf("Get through a dangling link: got %v\nwant %s", err, want)
	}
	if _, err := os.Lstat(dangling); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the link's target was created: %v", err)
	}
}

// A FIFO as the credentials file is refused at once: opening it does not
// wait for a writer.
func TestFileNotRegularRefused(t *testing.T) {
	s := NewFile(t.TempDir())
	must(t, unix.Mkfifo(s.Path, 0o600))
	want := s.Path + " is not a regular file; movitera keeps credentials only in a regular file it owns"
	if _, err := s.Get(context.Background(), "http://h", "acme"); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if err := s.Set(context.Background(), "http://h", "acme", "mvc_x"); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// otherUID is a user id that is not the test's. Only root can give a file
// to another user: elsewhere the test skips.
func otherUID(t *testing.T) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	return 65534 // nobody
}

// A credentials file that belongs to someone else is not used: it could
// hold a token planted there.
func TestFileOfAnotherUserRefused(t *testing.T) {
	ctx := context.Background()
	uid := otherUID(t)
	s := NewFile(t.TempDir())
	must(t, s.Set(ctx, "http://h", "acme", "mvc_x"))
	must(t, os.Chown(s.Path, uid, uid))
	want := fmt.Sprintf("%s belongs to user id %d, not to you (user id %d); movitera keeps credentials only in a regular file it owns", s.Path, uid, os.Geteuid())
	if _, err := s.Get(ctx, "http://h", "acme"); err == nil || err.Error() != want {
		t.Fatalf("Get: got %v\nwant %s", err, want)
	}
	if err := s.Set(ctx, "http://h", "acme", "mvc_y"); err == nil || err.Error() != want {
		t.Fatalf("Set: got %v\nwant %s", err, want)
	}
}

// A config directory of someone else's is never written in.
func TestFileDirOfAnotherUserRefused(t *testing.T) {
	uid := otherUID(t)
	dir := filepath.Join(t.TempDir(), "config")
	must(t, os.Mkdir(dir, 0o700))
	must(t, os.Chown(dir, uid, uid))
	s := NewFile(dir)
	want := fmt.Sprintf("the config directory %s belongs to user id %d, not to you (user id %d): movitera keeps credentials only in a directory you own; set MOVITERA_CONFIG_DIR to one", dir, uid, os.Geteuid())
	if err := s.Set(context.Background(), "http://h", "acme", "mvc_x"); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("written in the directory: %v, %v", entries, err)
	}
}

// A config directory that others can write to (they could plant a link
// or a file) is made 0700 before anything is written, with a warning.
func TestFileTightensWritableDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config")
	must(t, os.Mkdir(dir, 0o700))
	must(t, os.Chmod(dir, 0o777))
	s := NewFile(dir)
	var warned []string
	s.Warn = func(w string) { warned = append(warned, w) }
	must(t, s.Set(context.Background(), "http://h", "acme", "mvc_x"))
	assertMode(t, dir, 0o700)
	want := "config directory " + dir + " was writable by others (mode 0777); it is now 0700"
	if fmt.Sprint(warned) != "["+want+"]" {
		t.Fatalf("warnings %q, want %q", warned, want)
	}
	expect(t, s, "http://h", "acme", "mvc_x")
}

// A config directory that is a symbolic link to a directory of one's own
// (dotfiles kept elsewhere) is followed: only the files in it must not be
// links.
func TestFileDirSymlinkFollowed(t *testing.T) {
	real := filepath.Join(t.TempDir(), "real")
	must(t, os.Mkdir(real, 0o700))
	link := filepath.Join(t.TempDir(), "config")
	must(t, os.Symlink(real, link))
	s := NewFile(link)
	must(t, s.Set(context.Background(), "http://h", "acme", "mvc_x"))
	expect(t, s, "http://h", "acme", "mvc_x")
	assertMode(t, filepath.Join(real, FileName), 0o600)
}
