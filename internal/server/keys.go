package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// sealer encrypts what the server must keep but not in the clear (the
// result of an idempotent create, which holds a secret; TOTP secrets) with
// AES-256-GCM under the key in <data-dir>/server.key.
type sealer struct{ aead cipher.AEAD }

const keyLen = 32

// loadKey reads the server key, creating it (0600) on first start.
func loadKey(path string) (*sealer, error) {
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
	return &sealer{aead: aead}, nil
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
