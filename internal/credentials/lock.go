package credentials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/movitera/movitera/internal/config"
)

// DefaultLockWait bounds the wait for another command's hold on the lock
// of the credentials file.
const DefaultLockWait = 5 * time.Second

// errLocked is what tryLock returns while another process holds the lock.
var errLocked = errors.New("locked by another process")

// lock takes the advisory lock that guards every read-modify-write of the
// file: Path+".lock", 0600, created beside it and left there (it holds
// nothing). The directory is checked first (config.CheckDir), and the lock
// file is opened as the credentials file is read: never through a
// symbolic link. It waits at most LockWait, then fails naming the lock
// file. The returned function releases the lock.
func (s *File) lock(ctx context.Context) (func(), error) {
	path := s.Path + ".lock"
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %v", dir, config.WithoutPath(err, dir))
	}
	warning, err := config.CheckDir(dir)
	if err != nil {
		return nil, err
	}
	if warning != "" && s.Warn != nil {
		s.Warn(warning)
	}
	f, err := openPrivate(path, os.O_RDWR|os.O_CREATE, 0o600, "open the lock file")
	if err != nil {
		return nil, err
	}
	wait := s.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	deadline := time.Now().Add(wait)
	for delay := 2 * time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		err := tryLock(f)
		if err == nil {
			return func() { unlock(f); f.Close() }, nil
		}
		if !errors.Is(err, errLocked) {
			f.Close()
			return nil, fmt.Errorf("cannot lock %s: %v", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another movitera command kept %s locked for more than %s: try again when it has finished", path, wait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}
