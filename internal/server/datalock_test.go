package server

import (
	"context"
	"strings"
	"testing"
)

func TestOneServerPerDataDir(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), Config{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "another movitera server is using "+dir+": stop it first, or pass another --data-dir") {
		t.Fatalf("second server on the same data dir: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatalf("after Close the data dir should be free: %v", err)
	}
	again.Close()
}
