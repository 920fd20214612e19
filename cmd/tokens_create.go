package cmd

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/client"
	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/prompt"
	"github.com/movitera/movitera/internal/safetext"
	"github.com/movitera/movitera/internal/tokenview"
)

// The seed's warning, shown with every new secret.
const secretWarning = "Store the token now — you won't be able to see it again. If you lose it, you'll need to create a new one."

const maxNameLen = 100

// TokensCreateOptions are the inputs of "tokens create".
type TokensCreateOptions struct {
	F        *cmdutil.Factory
	Hostname func() (string, error)

	Name      string
	Type      movitera.ClientType
	Expiry    movitera.Expiry
	OTP       string
	JSON      bool
	NewKey    func() string // the Idempotency-Key of this invocation
	otpPassed bool
}

func newTokensCreateCmd(f *cmdutil.Factory, runF func(*TokensCreateOptions) error) *cobra.Command {
	opts := &TokensCreateOptions{F: f, Hostname: os.Hostname, NewKey: rand.Text}
	var typ, expires, expiresAt string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an access token and print its secret, once",
		Long: `Create an access token for the current team and print its secret on stdout, alone, so
that TOKEN=$(movitera tokens create …) captures it. The secret is shown this one time: the
vault keeps only a hash and its first 12 characters.

Creating a token needs a recent second-factor confirmation. At a terminal you are asked for
the code of your authenticator app when the vault wants one; without a terminal pass it
with --otp or MOVITERA_OTP, or the command fails at once (exit 4).

Agent tokens are made by Movitera Link only. Tokens that never expire are for vault
managers. A retried request never creates two tokens.`,
		Example: `  movitera tokens create --type sdk --expires 90d --name "deploy pipeline"
  TOKEN=$(movitera tokens create --type sdk --otp "$CODE")
  movitera tokens create --type cli --expires-at 2027-06-30 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if opts.Type, err = movitera.ParseCreatableType(typ); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if opts.Expiry, err = expiryFromFlags(cmd, expires, expiresAt, f.Now()); err != nil {
				return err
			}
			if cmd.Flags().Changed("name") {
				if err := checkName(opts.Name); err != nil {
					return err
				}
				opts.Name = strings.TrimSpace(opts.Name)
			}
			opts.otpPassed = cmd.Flags().Changed("otp")
			if runF != nil {
				return runF(opts)
			}
			return runTokensCreate(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Name, "name", "", `name shown in the list, 1 to 100 characters (default "<hostname> · <type>")`)
	fl.StringVar(&typ, "type", string(movitera.TypeSDK), "client type: cli, sdk, extension (browser-extension) or other")
	fl.StringVar(&expires, "expires", "", "lifetime from 7d to 365d, as days, weeks or hours (90d, 12w, 168h), or never (vault managers) (default 90d)")
	fl.StringVar(&expiresAt, "expires-at", "", "expiry date YYYY-MM-DD (UTC), 7 to 365 days from today; instead of --expires")
	fl.StringVar(&opts.OTP, "otp", "", "6-digit second-factor code from your authenticator app (env MOVITERA_OTP)")
	fl.BoolVar(&opts.JSON, "json", false, "print the secret and the token's fields as one JSON object")
	_ = cmd.RegisterFlagCompletionFunc("type", completeTypes(movitera.CreatableTypes))
	_ = cmd.RegisterFlagCompletionFunc("expires", cobra.FixedCompletions([]string{"7d", "30d", "90d", "180d", "365d", "never"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// expiryFromFlags reads --expires or --expires-at, before any request.
func expiryFromFlags(cmd *cobra.Command, expires, expiresAt string, now time.Time) (movitera.Expiry, error) {
	fl := cmd.Flags()
	switch {
	case fl.Changed("expires") && fl.Changed("expires-at"):
		return movitera.Expiry{}, cmdutil.FlagErrorf("--expires and --expires-at both set an expiry: use one of them")
	case fl.Changed("expires"):
		e, err := movitera.ParseExpiry(expires)
		if err != nil {
			return movitera.Expiry{}, &cmdutil.FlagError{Err: err}
		}
		return e, nil
	case fl.Changed("expires-at"):
		return expiryFromDate(expiresAt, now)
	}
	return movitera.Expiry{Days: movitera.DefaultExpiryDays}, nil
}

// expiryFromDate turns a date into whole days from today, both in UTC.
func expiryFromDate(s string, now time.Time) (movitera.Expiry, error) {
	y, m, d := now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, movitera.MinExpiryDays).Format(time.DateOnly)
	last := today.AddDate(0, 0, movitera.MaxExpiryDays).Format(time.DateOnly)
	date, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return movitera.Expiry{}, cmdutil.FlagErrorf("invalid --expires-at \"%s\": use a date YYYY-MM-DD from %s to %s", safetext.Clean(s), first, last)
	}
	days := int(date.Sub(today).Hours() / 24)
	if err := movitera.CheckExpiryDays(days); err != nil {
		return movitera.Expiry{}, cmdutil.FlagErrorf("invalid --expires-at %s: %v; use a date from %s to %s (UTC)", date.Format(time.DateOnly), err, first, last)
	}
	return movitera.Expiry{Days: days}, nil
}

// checkName applies the vault's rule before any request: 1 to 100
// characters after trimming, no control characters.
func checkName(name string) error {
	n := strings.TrimSpace(name)
	switch {
	case n == "":
		return cmdutil.FlagErrorf("--name is empty: give the token a name you will recognise in the list")
	case utf8.RuneCountInString(n) > maxNameLen:
		return cmdutil.FlagErrorf("--name is %d characters long: the limit is %d", utf8.RuneCountInString(n), maxNameLen)
	case safetext.HasControl(n) || !utf8.ValidString(n):
		return cmdutil.FlagErrorf("--name \"%s\" holds control characters or an escape sequence: use printable text only", safetext.Clean(n))
	}
	return nil
}

// defaultName is "<hostname> · <type>", like the tokens of movitera login.
func defaultName(hostname func() (string, error), t movitera.ClientType) string {
	host, err := hostname()
	host = strings.TrimSpace(safetext.Clean(host))
	if err != nil || host == "" {
		host = "movitera"
	}
	suffix := " · " + string(t)
	if r := []rune(host); len(r)+utf8.RuneCountInString(suffix) > maxNameLen {
		host = string(r[:maxNameLen-utf8.RuneCountInString(suffix)])
	}
	return host + suffix
}

// createdJSON is the --json object: the secret and the token's fields.
type createdJSON struct {
	Secret string `json:"secret"`
	tokenview.JSON
}

func runTokensCreate(ctx context.Context, opts *TokensCreateOptions) error {
	f := opts.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	otp := opts.OTP
	if !opts.otpPassed {
		otp = cfg.OTP
	}
	if otp != "" {
		if otp, err = checkOTP(otp, opts.otpPassed); err != nil {
			return err
		}
	}
	c, _, team, err := teamClient(ctx, f)
	if err != nil {
		return err
	}
	name := opts.Name
	if name == "" {
		name = defaultName(opts.Hostname, opts.Type)
	}
	req := client.CreateRequest{Name: name, ClientType: opts.Type}
	if !opts.Expiry.Never {
		days := opts.Expiry.Days
		req.ExpiresInDays = &days
	}
	key := opts.NewKey() // one per invocation: a retry never makes two tokens

	// Try first: a confirmation lasts 10 minutes, and a code given again
	// (MOVITERA_OTP in a shell) must not be replayed while it holds. Only
	// when the vault asks is the code confirmed, then the create retried.
	created, err := c.CreateToken(ctx, team, req, key)
	if isCode(err, client.CodeSecondFactorRequired) {
		switch {
		case otp != "":
			if _, err := c.ConfirmSecondFactor(ctx, otp); err != nil {
				return err
			}
		case !f.IO.CanPrompt():
			return &cmdutil.AuthError{Err: errors.New("creating a token needs a recent second-factor confirmation, and there is no terminal to ask for it: pass --otp CODE or set MOVITERA_OTP to the 6-digit code of your authenticator app")}
		default:
			if err := confirmInteractively(ctx, f, c); err != nil {
				return err
			}
		}
		created, err = c.CreateToken(ctx, team, req, key)
	}
	if isCode(err, client.CodeManagerRequired) {
		return fmt.Errorf("only vault managers of %s may create tokens that never expire, and you are a member: choose --expires between 7d and 365d", team)
	}
	if err != nil {
		return teamForbidden(ctx, c, team, err)
	}
	now := f.Now()
	t := created.Token
	fmt.Fprintf(f.IO.ErrOut, "Created %s token \"%s\" (%s) in team %s; %s.\n", t.ClientType.Label(), safetext.Clean(t.Name), t.ID, safetext.Clean(t.Team), expiryPhrase(t, now))
	fmt.Fprintln(f.IO.ErrOut, secretWarning)
	if opts.JSON {
		return tokenview.WriteObject(f.IO.Out, createdJSON{Secret: created.Secret, JSON: tokenview.NewJSON(t, now)})
	}
	_, err = fmt.Fprintln(f.IO.Out, created.Secret)
	return err
}

func expiryPhrase(t movitera.Token, now time.Time) string {
	if t.ExpiresAt == nil {
		return "it never expires"
	}
	return strings.ToLower(t.ExpiryLabel(now)[:1]) + t.ExpiryLabel(now)[1:] + " (" + t.ExpiresAt.UTC().Format(time.DateOnly) + ")"
}

// checkOTP accepts 6 digits, spaces allowed ("123 456").
func checkOTP(code string, fromFlag bool) (string, error) {
	c := strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(c) == 6 && strings.Trim(c, "0123456789") == "" {
		return c, nil
	}
	src := "MOVITERA_OTP"
	if fromFlag {
		src = "--otp"
	}
	return "", cmdutil.FlagErrorf("%s must be the 6-digit code of your authenticator app", src)
}

// confirmInteractively asks for the TOTP code, hidden, and confirms it;
// a wrong or already used code is asked again, three times at most.
func confirmInteractively(ctx context.Context, f *cmdutil.Factory, c *client.Client) error {
	fmt.Fprintln(f.IO.ErrOut, "Creating a token needs a recent second-factor confirmation.")
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var code string
		code, err = prompt.Hidden(ctx, f.IO, "Code from your authenticator app: ")
		if err != nil {
			return err
		}
		if code, err = checkOTP(code, true); err != nil {
			fmt.Fprintln(f.IO.ErrOut, "That is not a 6-digit code.")
			continue
		}
		if _, err = c.ConfirmSecondFactor(ctx, code); err == nil {
			return nil
		}
		if !isCode(err, client.CodeInvalidCode) && !isCode(err, client.CodeCodeAlreadyUsed) {
			return err
		}
		fmt.Fprintln(f.IO.ErrOut, safetext.Clean(err.Error()))
	}
	return err
}

func isCode(err error, code string) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Code == code
}
