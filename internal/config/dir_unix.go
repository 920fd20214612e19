//go:build unix

package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// CheckDir checks the config directory before a secret is written in it:
// it must belong to the current user, and others must not be able to add
// or replace files in it. A group- or world-writable one that the user
// owns is made 0700, and the returned warning says so; one that belongs to
// someone else is refused. A directory that does not exist yet passes (it
// is created 0700); a symbolic link to a directory is followed.
func CheckDir(dir string) (warning string, err error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cannot use the config directory %s: %v", dir, WithoutPath(err, dir))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("cannot use the config directory %s: %v", dir, WithoutPath(err, dir))
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return "", fmt.Errorf("the config directory %s belongs to user id %d, not to you (user id %d): movitera keeps credentials only in a directory you own; set MOVITERA_CONFIG_DIR to one", dir, st.Uid, os.Geteuid())
	}
	mode := info.Mode().Perm()
	if mode&0o022 == 0 {
		return "", nil
	}
	// Through the open directory, never by path.
	if err := f.Chmod(0o700); err != nil {
		return "", fmt.Errorf("the config directory %s is writable by others (mode %#o) and cannot be made private: %v", dir, mode, WithoutPath(err, dir))
	}
	return fmt.Sprintf("config directory %s was writable by others (mode %#o); it is now 0700", dir, mode), nil
}
