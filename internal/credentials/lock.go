package credentials

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DefaultLockWait bounds the wait for another command's hold on the lock
// of the credentials file.
const DefaultLockWait = 5 * time.Second

// errLocked is what tryLock returns while another process holds the lock.
var errLocked = errors.New("locked by another process")

// lock takes the advisory lock that guards every read-modify-write of the
// file: Path+".lock", 0600, created beside it and left there (it holds
// nothing). It waits at most LockWait, then fails naming the lock file.
// The returned function releases the lock.
func (s *File) lock(ctx context.Context) (func(), error) {
	path := s.Path + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %v", filepath.Dir(path), pathless(err, filepath.Dir(path)))
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the lock file %s: %v", path, pathless(err, path))
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

// pathless is err without the operation and path of its *fs.PathError,
// for a message that names the path already. An error about another path
// (a parent directory, say) keeps its path.
func pathless(err error, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return pe.Err
	}
	return err
}
