package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

const (
	raceKeys     = 60 // entries, each replaced once while deleters race
	raceDeleters = 6  // processes removing every entry's old token
	raceSetters  = 3  // processes storing the new tokens, a share each
	raceRoleEnv  = "MOVITERA_CREDENTIALS_TEST_ROLE"
)

// TestFileDeleteIfConcurrentProcesses races, across processes, DeleteIf of
// each entry's old token (a command removing a token the server refused)
// against a Set of a new one (a login). Whichever comes first, the new
// token must be what stays: DeleteIf removes only the token it was given.
// An unrelated entry must stay too.
func TestFileDeleteIfConcurrentProcesses(t *testing.T) {
	if isChild() {
		raceChild(t)
		return
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "config")
	s := NewFile(dir)
	for k := range raceKeys {
		must(t, s.Set(ctx, raceServer(k), "acme", raceToken("old", k)))
	}
	must(t, s.Set(ctx, "https://keep.example", "acme", "mvc_keep"))

	var roles []string
	for range raceDeleters {
		roles = append(roles, "delete")
	}
	for i := range raceSetters {
		roles = append(roles, "set"+strconv.Itoa(i))
	}
	cmds := make([]*exec.Cmd, len(roles))
	outs := make([]bytes.Buffer, len(roles))
	for i, role := range roles {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=1", writerDirEnv+"="+dir, raceRoleEnv+"="+role)
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		must(t, cmd.Start())
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s: %v\n%s", roles[i], err, &outs[i])
		}
	}
	if t.Failed() {
		return
	}

	var lost []string
	for k := range raceKeys {
		got, err := s.Get(ctx, raceServer(k), "acme")
		if err != nil || got != raceToken("new", k) {
			lost = append(lost, fmt.Sprintf("%s: %q %v", raceServer(k), got, err))
		}
	}
	if lost != nil {
		t.Errorf("%d of %d new tokens were not kept:\n%q", len(lost), raceKeys, lost)
	}
	expect(t, s, "https://keep.example", "acme", "mvc_keep")
	assertMode(t, s.Path, 0o600)
}

// raceChild is one process of the race: "delete" removes every entry's old
// token if still there; "setN" stores the new token of every raceSetters-th
// entry, from the Nth.
func raceChild(t *testing.T) {
	role := os.Getenv(raceRoleEnv)
	s := NewFile(os.Getenv(writerDirEnv))
	ctx := context.Background()
	if role == "delete" {
		for k := range raceKeys {
			if err := s.DeleteIf(ctx, raceServer(k), "acme", raceToken("old", k)); err != nil && !errors.Is(err, ErrNotFound) {
				t.Fatal(err)
			}
		}
		return
	}
	n, err := strconv.Atoi(role[len("set"):])
	if err != nil {
		t.Skip("not a process of the race")
	}
	for k := n; k < raceKeys; k += raceSetters {
		must(t, s.Set(ctx, raceServer(k), "acme", raceToken("new", k)))
	}
}

func raceServer(k int) string            { return fmt.Sprintf("https://race-%d.example", k) }
func raceToken(gen string, k int) string { return fmt.Sprintf("mvc_%s%d", gen, k) }
