//go:build unix

package credentials

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openNoFollow opens path with O_NOFOLLOW, so that a symbolic link fails
// to open instead of leading elsewhere, and O_NONBLOCK, so that a FIFO
// does not hang the open (it has no effect on regular files).
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK, perm)
}

// owner returns the user id that owns a file.
func owner(info fs.FileInfo) (int, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
