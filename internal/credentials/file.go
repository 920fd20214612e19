package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/movitera/movitera/internal/config"
)

// FileName is the insecure store's file, in the config directory.
const FileName = "credentials.json"

// File keeps tokens in plain text in a 0600 JSON file, written atomically.
// It is used only when the person asks for it (--insecure-storage). Every
// read-modify-write holds the lock file beside it, so that commands running
// at the same time (two logins, say) do not lose each other's entries.
type File struct {
	Path string
	// Warn receives a warning when the file was readable by others (it is
	// tightened to 0600). May be nil.
	Warn func(string)
	// LockWait bounds the wait for another command's lock; zero means
	// DefaultLockWait.
	LockWait time.Duration

	mu sync.Mutex // the lock file is per process: this guards goroutines
}

// NewFile returns the file store in a config directory.
func NewFile(dir string) *File { return &File{Path: filepath.Join(dir, FileName)} }

type fileEntry struct {
	Server string `json:"server"`
	Team   string `json:"team"`
	Token  string `json:"token"`
}

type fileData struct {
	Credentials []fileEntry `json:"credentials"`
}

// load reads the file, which must be a regular file of the current user's:
// a symbolic link is refused, never followed. A file others could read is
// made 0600, through the open file, with a warning.
func (s *File) load() (*fileData, error) {
	var d fileData
	f, err := openPrivate(s.Path, os.O_RDONLY, 0, "read")
	if errors.Is(err, fs.ErrNotExist) {
		return &d, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", s.Path, config.WithoutPath(err, s.Path))
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return nil, fmt.Errorf("%s is readable by others and cannot be made private: %v", s.Path, config.WithoutPath(err, s.Path))
		}
		if s.Warn != nil {
			s.Warn(fmt.Sprintf("%s was readable by others (mode %#o); it is now 0600: revoke its tokens if others could have read them", s.Path, info.Mode().Perm()))
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", s.Path, config.WithoutPath(err, s.Path))
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s does not parse (%v): remove it and log in again", s.Path, err)
	}
	return &d, nil
}

func (s *File) save(d *fileData) error {
	if len(d.Credentials) == 0 {
		if err := os.Remove(s.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot remove %s: %v", s.Path, config.WithoutPath(err, s.Path))
		}
		return nil
	}
	sort.Slice(d.Credentials, func(i, j int) bool {
		a, b := d.Credentials[i], d.Credentials[j]
		if a.Server != b.Server {
			return a.Server < b.Server
		}
		return a.Team < b.Team
	})
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(s.Path, append(data, '\n'))
}

func (d *fileData) find(server, team string) int {
	for i, e := range d.Credentials {
		if e.Server == server && e.Team == team {
			return i
		}
	}
	return -1
}

// Get implements Store.
func (s *File) Get(_ context.Context, server, team string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load()
	if err != nil {
		return "", err
	}
	i := d.find(server, team)
	if i < 0 {
		return "", ErrNotFound
	}
	return d.Credentials[i].Token, nil
}

// Set implements Store.
func (s *File) Set(ctx context.Context, server, team, token string) error {
	if err := checkKey(server, team, token); err != nil {
		return err
	}
	return s.update(ctx, func(d *fileData) error {
		if i := d.find(server, team); i >= 0 {
			d.Credentials[i].Token = token
		} else {
			d.Credentials = append(d.Credentials, fileEntry{Server: server, Team: team, Token: token})
		}
		return nil
	})
}

// Delete implements Store. The file goes when its last entry does.
func (s *File) Delete(ctx context.Context, server, team string) error {
	return s.remove(ctx, server, team, func(fileEntry) bool { return true })
}

// DeleteIf implements Store: one read-modify-write under the lock, so a
// token another command stores meanwhile is never the one removed.
func (s *File) DeleteIf(ctx context.Context, server, team, token string) error {
	return s.remove(ctx, server, team, func(e fileEntry) bool { return e.Token == token })
}

// remove deletes the entry of server and team when match accepts it, and
// answers ErrNotFound otherwise.
func (s *File) remove(ctx context.Context, server, team string, match func(fileEntry) bool) error {
	return s.update(ctx, func(d *fileData) error {
		i := d.find(server, team)
		if i < 0 || !match(d.Credentials[i]) {
			return ErrNotFound
		}
		d.Credentials = append(d.Credentials[:i], d.Credentials[i+1:]...)
		return nil
	})
}

// update is one read-modify-write of the file under the process's mutex
// and the lock file: change edits what was read, and what it leaves is
// saved unless it fails.
func (s *File) update(ctx context.Context, change func(*fileData) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	d, err := s.load()
	if err != nil {
		return err
	}
	if err := change(d); err != nil {
		return err
	}
	return s.save(d)
}

// Name implements Store.
func (s *File) Name() string { return NameFile }

// Location implements Store.
func (s *File) Location() string { return s.Path }
