package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/credentials"
	"github.com/movitera/movitera/internal/devicelogin"
	"github.com/movitera/movitera/internal/iostreams"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/prompt"
	"github.com/movitera/movitera/internal/safetext"
)

// LoginOptions are the dependencies and flags of "movitera login".
type LoginOptions struct {
	IO          *iostreams.IOStreams
	Config      func() (*config.Config, error)
	Client      func() (*client.Client, error)
	Credentials func() (*credentials.Stores, error)
	Browser     func(url string) error
	Getenv      func(string) string
	GOOS        string
	Hostname    func() (string, error)

	NoBrowser       bool
	WithToken       bool
	InsecureStorage bool
	// ExplicitTeam is --team or MOVITERA_TEAM, not the config file's team.
	ExplicitTeam string
}

func newLoginCmd(f *cmdutil.Factory, runF func(context.Context, *LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{
		IO: f.IO, Config: f.Config, Client: f.Client, Credentials: f.Credentials, Browser: f.Browser,
		Getenv: os.Getenv, GOOS: runtime.GOOS, Hostname: os.Hostname,
	}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in from this terminal and keep the token in the system keyring",
		Long: `Sign in to the vault. movitera shows a one-time code and opens the authorization page
in your browser; once you approve there, a CLI token named "<hostname> · cli" is created for
the team you picked and stored in the system keyring, one per server and team.

The code and the URL are printed first, so that you can open the page on any device: no browser
is launched with --no-browser, over SSH or without a display (unless BROWSER is set).

--team SLUG preselects the team on the page. Logging in again for the same server and team
replaces the CLI token kept for them and revokes the old one.

Without a usable keyring (no D-Bus session, in a container, over SSH), either log in with
--insecure-storage, which keeps the token in plain text in a 0600 file in the config directory,
or skip login and set MOVITERA_TOKEN.

--with-token reads a token from standard input instead (for a token made in the web app):
movitera checks it with the server, then stores it for its team. At a terminal it asks you
to paste the token, and does not echo it.`,
		Example: `  movitera login
  movitera login --no-browser --team acme
  movitera login --with-token < token.txt
  movitera login --insecure-storage`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fl := cmd.Flags().Lookup("team"); fl != nil && fl.Changed {
				opts.ExplicitTeam = fl.Value.String()
			} else {
				opts.ExplicitTeam = strings.TrimSpace(opts.Getenv("MOVITERA_TEAM"))
			}
			if opts.WithToken && opts.NoBrowser {
				return cmdutil.FlagErrorf("--with-token and --no-browser cannot be used together: --with-token opens no browser")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLogin(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.NoBrowser, "no-browser", false, "print the code and URL only; do not open a browser")
	fl.BoolVar(&opts.WithToken, "with-token", false, "read a token from standard input instead of signing in")
	fl.BoolVar(&opts.InsecureStorage, "insecure-storage", false, "keep the token in a 0600 plain-text file in the config directory, not the keyring")
	return cmd
}

func runLogin(ctx context.Context, o *LoginOptions) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	c, err := o.Client()
	if err != nil {
		return err
	}
	stores, err := o.Credentials()
	if err != nil {
		return err
	}
	store := stores.Keyring
	if o.InsecureStorage {
		store = stores.File
	}
	ew := o.IO.ErrOut

	var token, team string
	var info *client.UserInfo
	fromDevice := !o.WithToken
	if o.WithToken {
		if token, err = tokenFromStdin(ctx, o.IO); err != nil {
			return err
		}
		if info, err = c.WithToken(token).User(ctx); err != nil {
			var ne *client.NetworkError
			if errors.As(err, &ne) {
				return loginCancelled(ctx, fmt.Errorf("cannot check the token from stdin: %w", err))
			}
			return loginCancelled(ctx, fmt.Errorf("the server did not accept the token from stdin: %w", err))
		}
		team = info.Token.Team
		if o.ExplicitTeam != "" && o.ExplicitTeam != team {
			return cmdutil.FlagErrorf("this token belongs to team %s, not %s: drop --team (and MOVITERA_TEAM), or use a token of team %s", team, o.ExplicitTeam, o.ExplicitTeam)
		}
	}
	// Fail before the browser dance if the token could not be kept.
	if _, err := store.Get(ctx, cfg.Server, cfg.Team); err != nil && !errors.Is(err, credentials.ErrNotFound) {
		return loginCancelled(ctx, err)
	}
	if fromDevice {
		flow := &devicelogin.Flow{
			OAuth: c.OAuthConfig(client.DeviceClientID), HTTPClient: c.HTTPClient(), IO: o.IO,
			DeviceName: deviceName(o.Hostname), Team: cfg.Team,
		}
		if !o.NoBrowser {
			if reason := devicelogin.NoLaunchReason(o.GOOS, o.Getenv); reason != "" {
				flow.NoOpenReason = reason
			} else {
				flow.Open = o.Browser
			}
		}
		res, err := flow.Run(ctx)
		if err != nil {
			return loginCancelled(ctx, err)
		}
		token, team = res.AccessToken, res.Team
	}

	// The old credentials of this server and team, to revoke once replaced.
	var old []string
	prev, prevErr := store.Get(ctx, cfg.Server, team)
	if prevErr == nil {
		old = append(old, prev)
	}
	var fileOld string
	if !o.InsecureStorage && stores.File != nil {
		// A file entry would shadow the keyring: it goes.
		if prev, err := stores.File.Get(ctx, cfg.Server, team); err == nil {
			fileOld = prev
			old = append(old, prev)
		}
	}

	if err := storeToken(ctx, store, cfg.Server, team, token); err != nil {
		var rerr error
		if fromDevice {
			rerr = c.RevokeSecret(context.WithoutCancel(ctx), token)
		}
		// A keyring write that timed out may still land: put back what
		// the entry held, once the write has returned.
		var undoErr error
		if errors.Is(err, credentials.ErrTimeout) {
			undoErr = undoWrite(ctx, store, cfg.Server, team, prev, prevErr)
		}
		return loginCancelled(ctx, storeFailed(err, fromDevice, undoErr, token, rerr))
	}
	if fileOld != "" {
		if err := stores.File.Delete(ctx, cfg.Server, team); err != nil && !errors.Is(err, credentials.ErrNotFound) {
			fmt.Fprintf(ew, "warning: could not remove the old token of team %s from %s: %v\n", team, stores.File.Location(), err)
		}
	}
	if err := cfg.SetLogin(cfg.Server, team); err != nil {
		fmt.Fprintf(ew, "warning: could not record team %s in %s (%v): pass --team %s to the next commands\n", team, cfg.File, err, team)
	}
	revokeReplaced(ctx, o.IO, c, old, token)

	if info == nil {
		info, err = c.WithToken(token).User(ctx)
		if err != nil {
			fmt.Fprintf(ew, "warning: the token is stored but the server did not say who you are: %s\n", safetext.Clean(err.Error()))
		}
	}
	who := ""
	role := ""
	if info != nil {
		who = " as " + safetext.Clean(info.User.Email)
		if r, ok := info.TeamRole(team); ok {
			role = ", " + string(r)
		}
	}
	fmt.Fprintf(ew, "✓ Logged in to %s%s (team %s%s); token stored in %s\n", cfg.Server, who, safetext.Clean(team), role, whereStored(store.Name(), store.Location()))
	if cfg.Token != "" {
		fmt.Fprintln(ew, "warning: MOVITERA_TOKEN is set: commands use it, not the token just stored; unset it to use this login")
	}
	return nil
}

// errPrevUnread is undoWrite's answer when it left the entry alone.
var errPrevUnread = errors.New("what the keyring entry held before could not be read")

// undoWrite puts back what a timed-out write may still replace: the
// previous token (prevErr nil), or nothing (prevErr ErrNotFound). When
// the previous read failed otherwise, the entry may still hold a valid
// token: it is left alone and errPrevUnread returned. The keyring store
// makes each call wait for the abandoned write to return, bounded by its
// timeout, so the undo lands after it.
func undoWrite(ctx context.Context, s credentials.Store, server, team, prev string, prevErr error) error {
	switch {
	case prevErr == nil:
		return s.Set(ctx, server, team, prev)
	case errors.Is(prevErr, credentials.ErrNotFound):
		if err := s.Delete(ctx, server, team); err != nil && !errors.Is(err, credentials.ErrNotFound) {
			return err
		}
		return nil
	}
	return errPrevUnread
}

// storeFailed says what a failed store left behind. undoErr is the undo
// of a timed-out keyring write (nil when there was nothing to undo or the
// undo worked): the write may still land. rerr is the revocation of the
// new token from the device flow.
func storeFailed(err error, fromDevice bool, undoErr error, token string, rerr error) error {
	kept := "nothing was stored"
	if undoErr != nil {
		kept = "the keyring may still store the token once it answers"
	}
	left := ""
	if errors.Is(undoErr, errPrevUnread) {
		left = "; the keyring entry was left as it was, since what it held before could not be read"
	}
	switch {
	case !fromDevice:
		return fmt.Errorf("%w (%s%s)", err, kept, left)
	case rerr != nil:
		return fmt.Errorf("%w (%s%s; the new token %s could not be revoked: %v)", err, kept, left, movitera.DisplayPrefix(token), rerr)
	case undoErr != nil:
		return fmt.Errorf("%w (the new token was revoked; if the keyring stores it once it answers, the next command removes it%s)", err, left)
	}
	return fmt.Errorf("%w (%s, and the new token was revoked)", err, kept)
}

// storeToken writes the token and reads it back.
func storeToken(ctx context.Context, s credentials.Store, server, team, token string) error {
	if err := s.Set(ctx, server, team, token); err != nil {
		return err
	}
	got, err := s.Get(ctx, server, team)
	if err != nil {
		return fmt.Errorf("the token was written to %s but cannot be read back: %w", s.Location(), err)
	}
	if got != token {
		return fmt.Errorf("the token was written to %s but reads back different", s.Location())
	}
	return nil
}

// revokeReplaced revokes the CLI tokens a login replaced. Tokens of other
// types may be in use elsewhere (they came through --with-token): they are
// named, not revoked.
func revokeReplaced(ctx context.Context, ios *iostreams.IOStreams, c *client.Client, old []string, current string) {
	seen := map[string]bool{current: true}
	for _, tok := range old {
		if seen[tok] {
			continue
		}
		seen[tok] = true
		prefix := movitera.PublicPrefix(tok)
		if typ, err := movitera.ParseSecret(tok); err != nil || typ != movitera.TypeCLI {
			fmt.Fprintf(ios.ErrOut, "The previous token %s was replaced but not revoked: it is not a CLI token and may be in use elsewhere.\n", safetext.Clean(prefix))
			continue
		}
		if err := c.RevokeSecret(ctx, tok); err != nil {
			fmt.Fprintf(ios.ErrOut, "warning: could not revoke the previous CLI token %s (%s): revoke it with 'movitera tokens revoke %s'\n", prefix, safetext.Clean(err.Error()), prefix)
			continue
		}
		fmt.Fprintf(ios.ErrOut, "Revoked the previous CLI token %s.\n", prefix)
	}
}

// loginCancelled turns an interruption into ErrCancel (exit 130).
func loginCancelled(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return cmdutil.ErrCancel
	}
	return err
}

// tokenFromStdin reads --with-token's token: at a terminal it is asked
// for without echo (Ctrl-C interrupts at once); from a pipe it is read
// whole.
func tokenFromStdin(ctx context.Context, ios *iostreams.IOStreams) (string, error) {
	if !ios.IsStdinTTY() {
		return readToken(ios.In)
	}
	s, err := prompt.Hidden(ctx, ios, "Paste your token: ")
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", cmdutil.FlagErrorf("no token was pasted: paste a movitera access token, or pipe one in as in 'movitera login --with-token < token.txt'")
	}
	return checkToken(s)
}

// readToken reads --with-token's token: line endings and outer blanks are
// trimmed; empty input, inner whitespace and control characters are
// refused.
func readToken(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<10+1))
	if err != nil {
		return "", fmt.Errorf("cannot read the token from stdin: %v", err)
	}
	if len(data) > 64<<10 {
		return "", cmdutil.FlagErrorf("stdin holds more than a token: pipe exactly one token to --with-token")
	}
	return checkToken(string(data))
}

// checkToken trims outer blanks and refuses anything but one token.
func checkToken(data string) (string, error) {
	s := strings.TrimFunc(data, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	switch {
	case s == "":
		return "", cmdutil.FlagErrorf("no token on stdin: pipe one in, as in 'movitera login --with-token < token.txt'")
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return "", cmdutil.FlagErrorf("the token on stdin contains whitespace: pipe exactly one token to --with-token")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", cmdutil.FlagErrorf("the token on stdin contains control characters: pipe exactly one token to --with-token")
	}
	if _, err := movitera.ParseSecret(s); err != nil {
		return "", cmdutil.FlagErrorf("the text on stdin is not a movitera access token (mvX_ and 38 characters): check what was piped in")
	}
	return s, nil
}

// deviceName names the token a login creates: "<hostname> · cli".
func deviceName(hostname func() (string, error)) string {
	h, err := hostname()
	h = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(h))
	if err != nil || h == "" {
		h = "movitera"
	}
	if r := []rune(h); len(r) > 90 {
		h = string(r[:90])
	}
	return h + " · cli"
}
