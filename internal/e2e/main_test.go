//go:build e2e

// Package e2e tests movitera end to end with real parts: the built binary, a
// real `movitera server` subprocess, Debian's Chromium driven by chromedp,
// the real Secret Service (gnome-keyring on a private D-Bus session) and a
// real terminal (tmux). Run it with `make test-e2e`, or
//
//	go test -tags e2e -count=1 ./internal/e2e/
//
// MOVITERA_E2E_BIN=path tests a binary built elsewhere instead of building
// one. Each test skips, with the reason, when its tool is missing, except in CI
// (CI=true), where a missing tool is a failure.
package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// movitera is the path of the binary built once for the whole run.
var movitera string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if bin := os.Getenv("MOVITERA_E2E_BIN"); bin != "" {
		// A binary built elsewhere (make build): test it as it is.
		abs, err := filepath.Abs(bin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		movitera = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "movitera-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: finding the module root:", err)
		return 1
	}
	movitera = filepath.Join(dir, "movitera")
	start := time.Now()
	build := exec.Command("go", "build", "-o", movitera, ".")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build failed: %v\n%s", err, out)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", movitera, time.Since(start).Round(time.Millisecond))
	}
	return m.Run()
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// inCI reports whether a missing tool must fail the test rather than skip it.
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// requireTools skips the test (fails it in CI) when a program is missing.
func requireTools(t *testing.T, why string, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("%s needs %s, not found in PATH (Debian: apt-get install %s)", why, strings.Join(missing, ", "), debianPackages(missing))
	if inCI() {
		t.Fatal("CI=true: " + msg)
	}
	t.Skip(msg)
}

func debianPackages(tools []string) string {
	pkg := map[string]string{
		"chromium": "chromium", "tmux": "tmux", "secret-tool": "libsecret-tools",
		"gnome-keyring-daemon": "gnome-keyring", "dbus-daemon": "dbus",
	}
	var out []string
	seen := map[string]bool{}
	for _, t := range tools {
		p := pkg[t]
		if p == "" {
			p = t
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}
