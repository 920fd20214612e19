//go:build !unix

package credentials

import (
	"errors"
	"io/fs"
	"os"
)

// openNoFollow opens path once os.Lstat has shown that it is not a
// symbolic link or anything but a regular file: these systems have no
// O_NOFOLLOW.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	info, err := os.Lstat(path)
	switch {
	case err == nil && info.Mode()&fs.ModeSymlink != 0:
		return nil, &fs.PathError{Op: "open", Path: path, Err: errSymlink}
	case err == nil && !info.Mode().IsRegular():
		return nil, &notRegularError{path}
	}
	return os.OpenFile(path, flag, perm)
}

// errSymlink stands for the ELOOP that O_NOFOLLOW gives elsewhere; the
// caller names the link.
var errSymlink = errors.New("is a symbolic link")

// owner reports no owner: access there is a matter of ACLs.
func owner(fs.FileInfo) (int, bool) { return 0, false }
