package cmd_test

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// initAllocBudget is the most a single package may allocate while the
// binary starts, before main. Every byte allocated before main is paid on
// every run of every command (see docs/performance.md, target 1): a
// dependency that builds a large cache in init() shows up here first.
const initAllocBudget = 128 << 10

var initTraceLine = regexp.MustCompile(`(?m)^init (\S+) @[0-9.]+ ms, [0-9.]+ ms clock, ([0-9]+) bytes, [0-9]+ allocs$`)

// Starting movitera allocates little: no package's initialisation
// allocates more than initAllocBudget (GODEBUG=inittrace=1 reports each).
func TestStartupInitAllocations(t *testing.T) {
	bin, err := exec.LookPath("movitera") // testscript.Main put it on PATH
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(bin, "--version")
	c.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("movitera --version: %v\n%s", err, out)
	}
	lines := initTraceLine.FindAllStringSubmatch(string(out), -1)
	if len(lines) < 20 {
		t.Fatalf("only %d init trace lines in:\n%s", len(lines), out)
	}
	for _, l := range lines {
		bytes, _ := strconv.Atoi(l[2])
		if bytes > initAllocBudget {
			t.Errorf("package %s allocates %d bytes before main; the budget is %d", l[1], bytes, initAllocBudget)
		}
	}
}
