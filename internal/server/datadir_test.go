package server

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A data directory or server key others can read is made private, with a
// warning, and the key is kept.
func TestLooseDataDirIsTightened(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no permission bits")
	}
	dir := filepath.Join(t.TempDir(), "data")
	srv, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	keyPath := filepath.Join(dir, "server.key")
	key, _ := os.ReadFile(keyPath)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	srv, err = Open(context.Background(), Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, keyPath: 0o600} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v); want %v", path, st.Mode().Perm(), err, want)
		}
		if !strings.Contains(logs.String(), "path="+path+" was=") {
			t.Errorf("no warning for %s:\n%s", path, logs.String())
		}
	}
	if again, _ := os.ReadFile(keyPath); !bytes.Equal(again, key) {
		t.Error("the server key changed")
	}
	// Private already: no warning.
	srv.Close()
	logs.Reset()
	srv, err = Open(context.Background(), Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if strings.Contains(logs.String(), "permissions") {
		t.Errorf("warned about private files:\n%s", logs.String())
	}
}
