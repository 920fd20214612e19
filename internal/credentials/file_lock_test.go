package credentials

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

const (
	writers        = 12 // processes
	entriesPerProc = 8  // each sets these, then deletes the odd ones
	writerDirEnv   = "MOVITERA_CREDENTIALS_TEST_DIR"
	writerIDEnv    = "MOVITERA_CREDENTIALS_TEST_WRITER"
)

// TestFileConcurrentProcesses runs many writers of one credentials file at
// once, each in its own process (this test binary, re-executed), as
// concurrent "movitera login --insecure-storage" commands would. Every
// entry must survive, and the file must stay 0600 valid JSON.
func TestFileConcurrentProcesses(t *testing.T) {
	if isChild() {
		writeEntries(t)
		return
	}
	dir := filepath.Join(t.TempDir(), "config")
	cmds := make([]*exec.Cmd, writers)
	outs := make([]bytes.Buffer, writers)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=1", writerDirEnv+"="+dir, writerIDEnv+"="+strconv.Itoa(i))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		must(t, cmd.Start())
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer %d: %v\n%s", i, err, &outs[i])
		}
	}
	if t.Failed() {
		return
	}

	path := filepath.Join(dir, FileName)
	assertMode(t, path, 0o600)
	assertMode(t, path+".lock", 0o600)
	data, err := os.ReadFile(path)
	must(t, err)
	var d fileData
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s is not valid JSON: %v\n%s", path, err, data)
	}
	var got, want []string
	for _, e := range d.Credentials {
		got = append(got, e.Server+" "+e.Team+" "+e.Token)
	}
	for i := range writers {
		for j := 0; j < entriesPerProc; j += 2 {
			want = append(want, writerEntry(i, j))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the file holds %d entries, want %d:\n got %q\nwant %q", len(got), len(want), got, want)
	}
}

// writeEntries is one writer process: it sets its entries one by one, then
// deletes every other one.
func writeEntries(t *testing.T) {
	i, err := strconv.Atoi(os.Getenv(writerIDEnv))
	if err != nil {
		t.Skip("not a writer")
	}
	s := NewFile(os.Getenv(writerDirEnv))
	ctx := context.Background()
	for j := range entriesPerProc {
		must(t, s.Set(ctx, writerServer(j), writerTeam(i), writerToken(i, j)))
	}
	for j := 1; j < entriesPerProc; j += 2 {
		if err := s.Delete(ctx, writerServer(j), writerTeam(i)); err != nil {
			t.Fatalf("writer %d lost its entry %d: %v", i, j, err)
		}
	}
}

func writerServer(j int) string   { return fmt.Sprintf("https://vault-%d.example", j) }
func writerTeam(i int) string     { return fmt.Sprintf("team-%d", i) }
func writerToken(i, j int) string { return fmt.Sprintf("mvc_writer%dentry%d", i, j) }
func writerEntry(i, j int) string {
	return writerServer(j) + " " + writerTeam(i) + " " + writerToken(i, j)
}

// TestFileLockWaitIsBounded: while another holder keeps the lock, a write
// gives up after LockWait with an error naming the lock file, and changes
// nothing.
func TestFileLockWaitIsBounded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := NewFile(dir)
	must(t, s.Set(ctx, "http://h", "acme", "mvc_before"))

	// A second File on the same path takes the lock through its own open
	// file, as another process does (flock and LockFileEx are per open
	// file, not per process).
	holder := NewFile(dir)
	release, err := holder.lock(ctx)
	must(t, err)
	s.LockWait = 50 * time.Millisecond
	want := "another movitera command kept " + s.Path + ".lock locked for more than 50ms: try again when it has finished"
	if err := s.Set(ctx, "http://h", "acme", "mvc_after"); err == nil || err.Error() != want {
		t.Fatalf("Set: got %v\nwant %s", err, want)
	}
	if err := s.Delete(ctx, "http://h", "acme"); err == nil || err.Error() != want {
		t.Fatalf("Delete: got %v\nwant %s", err, want)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	s.LockWait = time.Hour
	if err := s.Set(cancelled, "http://h", "acme", "mvc_after"); err != context.Canceled {
		t.Fatalf("Set with a cancelled context: %v", err)
	}
	expect(t, s, "http://h", "acme", "mvc_before")

	release()
	must(t, s.Set(ctx, "http://h", "acme", "mvc_after"))
	expect(t, s, "http://h", "acme", "mvc_after")
}
