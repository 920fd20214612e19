package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
)

// sealer encrypts what the server must keep but not in the clear (the
// result of an idempotent create, which holds a secret; TOTP secrets) with
// AES-256-GCM under the key in <data-dir>/server.key.
//
// It also signs (HMAC-SHA256) under a key derived from the same one.
type sealer struct {
	aead   cipher.AEAD
	macKey []byte
}

const keyLen = 32

// loadKey reads the server key, creating it (0600) on first start. A key
// that others may read is made 0600, with a warning.
func loadKey(path string, log *slog.Logger) (*sealer, error) {
	if err := tighten(path, 0o600, log); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("server key: %w", err)
	}
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, keyLen)
		rand.Read(key)
		if err = writeFileAtomic(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("server key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("server key: %w", err)
	}
	if len(key) != keyLen {
		return nil, fmt.Errorf("server key %s: want %d bytes, found %d; restore it or remove the data directory", path, keyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("movitera mac key"))
	return &sealer{aead: aead, macKey: m.Sum(nil)}, nil
}

// mac is the HMAC-SHA256 of msg for a purpose (so that a MAC made for one
// purpose is never valid for another).
func (s *sealer) mac(purpose, msg string) []byte {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// seal encrypts plain, bound to context (so a sealed value cannot be moved to
// another row).
func (s *sealer) seal(plain []byte, context string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, []byte(context))
}

func (s *sealer) open(sealed []byte, context string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
}

// writeFileAtomic writes a file through a temporary file and a rename, so
// that a reader never sees half of it.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// tighten takes the group's and others' permissions off a file or directory
// that has any (a data directory made by hand, a key restored from a
// backup), and says so: what it holds may have been read.
func tighten(path string, perm os.FileMode, log *slog.Logger) error {
	if runtime.GOOS == "windows" {
		return nil // permission bits mean nothing there
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, perm); err != nil {
		return err
	}
	log.Warn("permissions were too open: other users of this machine could read it; made it private",
		"path", path, "was", st.Mode().Perm().String(), "now", perm.String())
	return nil
}
