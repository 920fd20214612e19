package devicelogin

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/pkg/browser"
)

// Browser opens URLs in the person's browser: the program named by
// $BROWSER when set, else the system's opener (pkg/browser: xdg-open,
// open, rundll32). A launcher's own output never reaches the terminal.
type Browser struct {
	Getenv func(string) string // os.Getenv when nil
	// Wait is how long Open waits for the launcher to fail before it takes
	// the launch as done (launchers that start a browser may not return).
	Wait time.Duration
}

// Open launches the browser on url. An error means the launch failed; the
// caller warns and goes on waiting.
func (b Browser) Open(url string) error {
	getenv := b.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	wait := b.Wait
	if wait <= 0 {
		wait = 2 * time.Second
	}
	if v := strings.TrimSpace(getenv("BROWSER")); v != "" {
		prog, args := SplitBrowser(v)
		cmd := exec.Command(prog, append(args, url)...)
		// Stdin, Stdout and Stderr stay nil: /dev/null, no pipe to hold open.
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("cannot start $BROWSER (%s): %v", prog, unwrapExec(err))
		}
		return waitFor(wait, func() error {
			if err := cmd.Wait(); err != nil {
				return fmt.Errorf("$BROWSER (%s) failed: %v", prog, err)
			}
			return nil
		})
	}
	browser.Stdout, browser.Stderr = io.Discard, io.Discard
	return waitFor(wait, func() error { return browser.OpenURL(url) })
}

// SplitBrowser splits $BROWSER into a program and its arguments. A value
// that names an existing file is a program path, spaces and all
// ("/opt/My Browser/run"); otherwise it splits on blanks ("firefox
// --new-window").
func SplitBrowser(v string) (prog string, args []string) {
	if info, err := os.Stat(v); err == nil && !info.IsDir() {
		return v, nil
	}
	f := strings.Fields(v)
	return f[0], f[1:]
}

// waitFor runs fn and returns its error if it ends within d; after d the
// launch is taken as done and fn is left to finish on its own.
func waitFor(d time.Duration, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return nil
	}
}

func unwrapExec(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// NoLaunchReason says why no browser should be launched here, or "" when
// one may be. $BROWSER, when set, is always honoured.
func NoLaunchReason(goos string, getenv func(string) string) string {
	if strings.TrimSpace(getenv("BROWSER")) != "" {
		return ""
	}
	if getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != "" {
		return "this is an SSH session"
	}
	switch goos {
	case "darwin", "windows", "android", "ios":
		return ""
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return "there is no display (DISPLAY and WAYLAND_DISPLAY are not set)"
	}
	return ""
}
