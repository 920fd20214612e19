//go:build unix

package credentials

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A lock file that cannot be opened: the error names it once, and nothing
// is written.
func TestFileLockOpenError(t *testing.T) {
	s := NewFile(t.TempDir())
	must(t, os.Mkdir(s.Path+".lock", 0o700))
	want := "cannot open the lock file " + s.Path + ".lock: is a directory"
	if err := s.Set(context.Background(), "http://h", "acme", "mvc_x"); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if _, err := os.Stat(s.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the file was written: %v", err)
	}
}

// The last entry goes but the emptied file cannot be removed: the error
// names the file once, and the entry stays.
func TestFileRemoveError(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "config")
	s := NewFile(dir)
	must(t, s.Set(ctx, "http://h", "acme", "mvc_x"))
	want := "cannot remove " + s.Path + ": " + freezeDir(t, dir)
	if err := s.Delete(ctx, "http://h", "acme"); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	expect(t, s, "http://h", "acme", "mvc_x")
}

// freezeDir stops the removal of dir's entries and returns the error it
// then gives: mode 0500, or as root (whom modes do not stop) chattr +i.
// Where chattr cannot, the test skips.
func freezeDir(t *testing.T, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		must(t, os.Chmod(dir, 0o500))
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		return "permission denied"
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("as root only chattr +i keeps a directory's entries, and it failed: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
	return "operation not permitted"
}
