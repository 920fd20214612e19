package credentials

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/movitera/movitera/internal/config"
)

// onlyRegular ends the errors about a credentials file that is not a
// plain file of the person's own.
const onlyRegular = "movitera keeps credentials only in a regular file it owns"

// openPrivate opens path, the credentials file or its lock, never through
// a symbolic link, and checks that it is a regular file of the current
// user's. A link, anything but a regular file, or a file of someone else's
// is refused, naming the path; other errors read "cannot <verb> <path>: …".
func openPrivate(path string, flag int, perm os.FileMode, verb string) (*os.File, error) {
	f, err := openNoFollow(path, flag, perm)
	if err != nil {
		// O_NOFOLLOW reports a link as ELOOP, EMLINK or EFTYPE, by system.
		if info, lerr := os.Lstat(path); lerr == nil && info.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s is a symbolic link; %s", path, onlyRegular)
		}
		if nr := (*notRegularError)(nil); errors.As(err, &nr) {
			return nil, err
		}
		return nil, fmt.Errorf("cannot %s %s: %w", verb, path, config.WithoutPath(err, path))
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot %s %s: %w", verb, path, config.WithoutPath(err, path))
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, &notRegularError{path}
	}
	if uid, ok := owner(info); ok && uid != os.Geteuid() {
		f.Close()
		return nil, fmt.Errorf("%s belongs to user id %d, not to you (user id %d); %s", path, uid, os.Geteuid(), onlyRegular)
	}
	return f, nil
}

// notRegularError is a credentials path that holds something other than a
// regular file or a symbolic link: a directory, a FIFO, a device.
type notRegularError struct{ path string }

func (e *notRegularError) Error() string {
	return e.path + " is not a regular file; " + onlyRegular
}
