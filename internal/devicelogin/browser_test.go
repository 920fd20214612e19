package devicelogin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestBrowserPathWithSpaces(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "url")
	prog := script(t, filepath.Join(dir, "My Browser"), "open me", `echo "$@" > "`+out+`"; echo noise on stdout`)
	b := Browser{Getenv: env(map[string]string{"BROWSER": prog}), Wait: 10 * time.Second}
	if err := b.Open("http://vault.test/device?user_code=BCDF-GHJK"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if string(got) != "http://vault.test/device?user_code=BCDF-GHJK\n" {
		t.Fatalf("the browser got %q", got)
	}
}

func TestBrowserWithArguments(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "url")
	prog := script(t, dir, "browser", `echo "$@" > "`+out+`"`)
	b := Browser{Getenv: env(map[string]string{"BROWSER": prog + " --new-window"}), Wait: 10 * time.Second}
	if err := b.Open("http://x/"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != "--new-window http://x/\n" {
		t.Fatalf("the browser got %q", got)
	}
}

func TestBrowserFailures(t *testing.T) {
	dir := t.TempDir()
	failing := script(t, dir, "failing", "exit 3")
	for v, want := range map[string]string{
		failing:                 "$BROWSER (" + failing + ") failed: exit status 3",
		filepath.Join(dir, "x"): "cannot start $BROWSER (" + filepath.Join(dir, "x") + "): no such file or directory",
		"no-such-browser-here":  "cannot start $BROWSER (no-such-browser-here): executable file not found in $PATH",
	} {
		err := Browser{Getenv: env(map[string]string{"BROWSER": v}), Wait: 10 * time.Second}.Open("http://x/")
		if err == nil || err.Error() != want {
			t.Errorf("BROWSER=%s: got %v, want %s", v, err, want)
		}
	}
}

func TestBrowserThatKeepsRunning(t *testing.T) {
	prog := script(t, t.TempDir(), "slow", "sleep 5")
	start := time.Now()
	err := Browser{Getenv: env(map[string]string{"BROWSER": prog}), Wait: 100 * time.Millisecond}.Open("http://x/")
	if err != nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

func TestSplitBrowser(t *testing.T) {
	prog, args := SplitBrowser("firefox --new-window")
	if prog != "firefox" || strings.Join(args, "|") != "--new-window" {
		t.Fatal(prog, args)
	}
}

func TestNoLaunchReason(t *testing.T) {
	for _, tc := range []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"linux", map[string]string{"DISPLAY": ":0"}, ""},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, ""},
		{"linux", nil, "there is no display (DISPLAY and WAYLAND_DISPLAY are not set)"},
		{"linux", map[string]string{"BROWSER": "w3m"}, ""},
		{"linux", map[string]string{"DISPLAY": ":0", "SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, "this is an SSH session"},
		{"darwin", map[string]string{"SSH_TTY": "/dev/pts/1"}, "this is an SSH session"},
		{"darwin", map[string]string{"SSH_TTY": "/dev/pts/1", "BROWSER": "echo"}, ""},
		{"darwin", nil, ""},
		{"windows", nil, ""},
	} {
		if got := NoLaunchReason(tc.goos, env(tc.env)); got != tc.want {
			t.Errorf("%s %v: %q, want %q", tc.goos, tc.env, got, tc.want)
		}
	}
}
