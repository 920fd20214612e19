package cmd_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/movitera/movitera/internal/pagewalk"
)

// totpSteps hands out TOTP codes of the dev user that the server has not
// seen yet: it accepts each code once, with one step of skew either side.
type totpSteps struct {
	mu     sync.Mutex
	secret string
	used   map[int64]bool
	last   string
}

func (s *totpSteps) next(now time.Time) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for deadline := now.Add(45 * time.Second); now.Before(deadline); now = time.Now() {
		cur := now.Unix() / 30
		// The previous step leaves the server's window when the current
		// period ends: hand it out last, and only while 10 s remain.
		for _, step := range []int64{cur, cur + 1, cur - 1} {
			if s.used[step] || (step == cur-1 && (cur+1)*30-now.Unix() < 10) {
				continue
			}
			code, err := totp.GenerateCodeCustom(s.secret, time.Unix(step*30, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				return "", err
			}
			s.used[step] = true
			s.last = code
			return code, nil
		}
		time.Sleep(time.Second)
	}
	return "", fmt.Errorf("no unused TOTP step")
}

// cmdTOTP sets an environment variable to a TOTP code of the dev user:
// "totp VAR" a fresh one, "totp -again VAR" the last one given (a replay),
// "totp -wrong VAR" a code that is not valid now.
func cmdTOTP(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("totp", flag.ContinueOnError)
	again := fs.Bool("again", false, "repeat the last code")
	wrong := fs.Bool("wrong", false, "a wrong code")
	if neg || fs.Parse(args) != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: totp [-again|-wrong] VAR")
	}
	s := scriptServerOf(ts).totp
	var code string
	switch {
	case *again:
		code = s.last
	case *wrong:
		c, err := totp.GenerateCode(s.secret, time.Now().Add(-10*time.Minute))
		ts.Check(err)
		code = c
	default:
		c, err := s.next(time.Now())
		ts.Check(err)
		code = c
	}
	ts.Setenv(fs.Arg(0), code)
}

// cmdApprove plays the person at the browser: it finds the pending device
// login (the URL the fake browser received, or -url), walks the server's
// real pages over HTTP — sign in, compare the code, pick the team — and
// approves, or denies with -deny.
func cmdApprove(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("approve", flag.ContinueOnError)
	deny := fs.Bool("deny", false, "deny instead of approving")
	team := fs.String("team", "", "team to pick (default: the page's choice)")
	rawURL := fs.String("url", "", "verification URL (default: $WORK/browser-url)")
	from := fs.String("from", "", "file to find the verification URL in, e.g. a login's stderr (for --no-browser)")
	wait := fs.Duration("wait", 20*time.Second, "how long to wait for the URL")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		ts.Fatalf("usage: approve [-deny] [-team SLUG] [-url URL | -from FILE]")
	}
	if *from != "" {
		u, err := urlFromFile(ts.MkAbs(*from), *wait)
		ts.Check(err)
		*rawURL = u
	}
	err := approve(ts, *rawURL, *team, *deny, *wait)
	if neg {
		if err == nil {
			ts.Fatalf("approve succeeded unexpectedly")
		}
		ts.Logf("approve failed as expected: %v", err)
		return
	}
	ts.Check(err)
}

func approve(ts *testscript.TestScript, rawURL, team string, deny bool, wait time.Duration) error {
	ss := scriptServerOf(ts)
	if rawURL == "" {
		file := filepath.Join(ts.Getenv("WORK"), "browser-url")
		for deadline := time.Now().Add(wait); ; time.Sleep(100 * time.Millisecond) {
			if b, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(b))) > 0 {
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				rawURL = lines[len(lines)-1]
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no browser was opened within %s (nothing in %s)", wait, file)
			}
		}
	}
	b := pagewalk.NewBrowser(10 * time.Second)
	page, err := b.Get(rawURL)
	if err != nil {
		return err
	}
	if f := pagewalk.FindForm(page.Body, "/device/login"); f != nil {
		code, err := ss.totp.next(time.Now())
		if err != nil {
			return err
		}
		f.Set("email", ss.dev.Email)
		f.Set("password", ss.dev.Password)
		f.Set("otp", code)
		if page, err = b.Post(ss.url, f); err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
	}
	f := pagewalk.FindForm(page.Body, "/device/approve")
	if f == nil {
		return fmt.Errorf("no approval form on the page:\n%s", page.Body)
	}
	if team != "" {
		f.Set("team", team)
	}
	f.Set("action", map[bool]string{true: "deny", false: "approve"}[deny])
	page, err = b.Post(ss.url, f)
	if err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	ts.Logf("approval page: %s", pagewalk.Text(page.Body))
	return nil
}

var verificationURL = regexp.MustCompile(`https?://\S+/device\?user_code=[A-Z-]+`)

// urlFromFile waits for a verification URL to appear in a file (the
// stderr of a "login --no-browser" run through sh).
func urlFromFile(file string, wait time.Duration) (string, error) {
	for deadline := time.Now().Add(wait); ; time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(file); err == nil {
			if u := verificationURL.FindString(string(b)); u != "" {
				return u, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no verification URL in %s within %s", file, wait)
		}
	}
}
