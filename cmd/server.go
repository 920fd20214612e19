package cmd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/config"
	"github.com/movitera/movitera/internal/server"
)

type serverOptions struct {
	Addr          string
	DataDir       string
	Dev           bool
	TLSCert       string
	TLSKey        string
	PublicURL     string
	TrustedProxy  []string
	LogLevel      string
	PollInterval  int
	DeviceCodeTTL time.Duration
	Grace         time.Duration

	proxies []netip.Prefix   // TrustedProxy, parsed by validate
	cert    *tls.Certificate // TLSCert and TLSKey, loaded by validate
	errOut  io.Writer
	signals <-chan os.Signal // SIGINT and SIGTERM: the first stops, the second ends the grace period
	ready   func(url string) // tests: called once the server accepts connections
}

func newServerCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &serverOptions{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a self-contained vault: the token API and the sign-in pages",
		Long: `Run movitera's reference vault: the access-token API, device sign-in (OAuth 2.0
device authorization) and its browser pages, with its state in an SQLite file in
the data directory. Plain HTTP is served on loopback addresses only; any other
address needs --tls-cert and --tls-key.

With --dev it also sets up, once, a dev user (manager of team acme, member of
team globex) and a ready token, and writes them to <data-dir>/dev-credentials.json.`,
		Example: `  movitera server --dev
  movitera server --addr 127.0.0.1:0 --data-dir ./vault
  movitera server --addr 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem
  movitera server --public-url https://vault.example.com --trusted-proxy 127.0.0.1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.errOut = f.IO.ErrOut
			if err := opts.validate(); err != nil {
				return err
			}
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			opts.signals = sigs
			return runServer(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8270", "address to listen on (host:port; port 0 picks a free one)")
	fl.StringVar(&opts.DataDir, "data-dir", "", "directory of the database and keys (default $XDG_DATA_HOME/movitera or ~/.local/share/movitera)")
	fl.BoolVar(&opts.Dev, "dev", false, "set up a dev user, two teams and a token, and print them")
	fl.StringVar(&opts.TLSCert, "tls-cert", "", "TLS certificate file (PEM), to serve HTTPS")
	fl.StringVar(&opts.TLSKey, "tls-key", "", "TLS private key file (PEM), to serve HTTPS")
	fl.StringVar(&opts.PublicURL, "public-url", "", "URL browsers reach the server at, for sign-in links (behind a reverse proxy); default: the listening address")
	fl.StringArrayVar(&opts.TrustedProxy, "trusted-proxy", nil, "reverse proxy (`CIDR` or address) whose X-Forwarded-For names the client, for rate limits and the log; repeatable")
	fl.StringVar(&opts.LogLevel, "log-level", "info", "request log on stderr: debug, info, warn, error or off")
	fl.IntVar(&opts.PollInterval, "poll-interval", 5, "device flow polling interval, in seconds")
	fl.DurationVar(&opts.DeviceCodeTTL, "device-code-ttl", server.DefaultDeviceCodeTTL, "lifetime of a device code")
	fl.DurationVar(&opts.Grace, "shutdown-grace", server.DefaultGrace, "how long requests in progress may take to finish when stopping")
	_ = fl.MarkHidden("poll-interval")
	_ = fl.MarkHidden("device-code-ttl")
	_ = fl.MarkHidden("shutdown-grace")
	return cmd
}

func (o *serverOptions) validate() error {
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return cmdutil.FlagErrorf("invalid --addr %q: use host:port, such as 127.0.0.1:8270", o.Addr)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return cmdutil.FlagErrorf("--tls-cert and --tls-key go together: give both, or neither")
	}
	if o.TLSCert == "" && !isLoopback(host) {
		return cmdutil.FlagErrorf("refusing to serve plain HTTP on %s: use a loopback address (127.0.0.1, ::1, localhost), or give --tls-cert and --tls-key", o.Addr)
	}
	if o.PublicURL != "" {
		if _, err := server.CheckPublicURL(o.PublicURL); err != nil {
			return cmdutil.FlagErrorf("invalid --public-url %q: use http(s)://host[:port], such as https://vault.example.com", o.PublicURL)
		}
	}
	o.proxies = nil
	for _, v := range o.TrustedProxy {
		p, err := server.ParseTrustedProxy(v)
		if err != nil {
			return cmdutil.FlagErrorf("invalid --trusted-proxy %q: %v", v, err)
		}
		o.proxies = append(o.proxies, p)
	}
	if o.PollInterval < 1 || o.PollInterval > 60 {
		return cmdutil.FlagErrorf("--poll-interval must be 1 to 60 seconds")
	}
	if o.DeviceCodeTTL < 10*time.Second || o.DeviceCodeTTL > 24*time.Hour {
		return cmdutil.FlagErrorf("--device-code-ttl must be between 10s and 24h")
	}
	if _, ok := logLevels[o.LogLevel]; !ok {
		return cmdutil.FlagErrorf("invalid --log-level %q: use debug, info, warn, error or off", o.LogLevel)
	}
	if o.Grace < time.Second || o.Grace > time.Hour {
		return cmdutil.FlagErrorf("--shutdown-grace must be between 1s and 1h")
	}
	o.cert = nil
	if o.TLSCert != "" {
		cert, err := loadKeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return err
		}
		o.cert = cert
	}
	return nil
}

// loadKeyPair reads the certificate and key of --tls-cert and --tls-key and
// checks that they go together. Its errors are usage errors that name the
// flag and the cause, never the files' contents.
func loadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := readPEMFile("--tls-cert", certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readPEMFile("--tls-key", keyFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err == nil {
		return &cert, nil
	}
	return nil, cmdutil.FlagErrorf("--tls-cert %q and --tls-key %q are not a certificate and its private key: %s",
		certFile, keyFile, strings.TrimPrefix(err.Error(), "tls: "))
}

// maxPEMFile bounds what is read of --tls-cert and --tls-key: a certificate
// chain or key is a few kilobytes, and a path such as /dev/zero must not
// fill the memory.
const maxPEMFile = 1 << 20

// readPEMFile reads the file of flag, refusing one over maxPEMFile.
func readPEMFile(flag, path string) ([]byte, error) {
	data, err := readAtMost(path, maxPEMFile)
	if err != nil {
		return nil, cmdutil.FlagErrorf("cannot read %s %q: %v", flag, path, config.WithoutPath(err, path))
	}
	if len(data) > maxPEMFile {
		return nil, cmdutil.FlagErrorf("%s %q is over 1 MiB: give a PEM file", flag, path)
	}
	return data, nil
}

// readAtMost reads up to max+1 bytes of a file: more than max means it is
// too long.
func readAtMost(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max+1))
}

var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "off": slog.LevelError + 100}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// defaultDataDir is $XDG_DATA_HOME/movitera, else ~/.local/share/movitera.
func defaultDataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "movitera"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data directory: %w; give --data-dir", err)
	}
	return filepath.Join(home, ".local", "share", "movitera"), nil
}

func runServer(ctx context.Context, o *serverOptions) error {
	dir := o.DataDir
	if dir == "" {
		var err error
		if dir, err = defaultDataDir(); err != nil {
			return err
		}
	}
	// The log is batched (see server.LogWriter); Flush before printing to
	// errOut directly keeps the order of the lines.
	logOut := server.NewLogWriter(o.errOut)
	defer logOut.Close()
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: logLevels[o.LogLevel]}))
	srv, err := server.Open(ctx, server.Config{
		DataDir: dir, Dev: o.Dev, Logger: logger, PublicURL: o.PublicURL, TrustedProxies: o.proxies,
		PollInterval: time.Duration(o.PollInterval) * time.Second, DeviceCodeTTL: o.DeviceCodeTTL,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", o.Addr, err)
	}
	scheme := "http"
	if o.cert != nil {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	if o.Dev {
		devURL := url
		if o.PublicURL != "" {
			devURL, _ = server.CheckPublicURL(o.PublicURL)
		}
		creds, err := srv.SetupDev(devURL)
		if err != nil {
			ln.Close()
			return err
		}
		logOut.Flush()
		printDev(o.errOut, srv.DevCredentialsPath(), creds)
	}
	logOut.Flush()
	fmt.Fprintf(o.errOut, "movitera server: data in %s\n", dir)
	if len(o.proxies) > 0 {
		nets := make([]string, len(o.proxies))
		for i, p := range o.proxies {
			nets[i] = p.String()
		}
		fmt.Fprintf(o.errOut, "movitera server: client addresses from X-Forwarded-For when the peer is in %s\n", strings.Join(nets, ", "))
	}
	fmt.Fprintf(o.errOut, "movitera server listening on %s\n", url)
	if o.ready != nil {
		o.ready(url)
	}
	ctx, hurry, endSignals := o.stopSignals(ctx)
	defer endSignals()
	grace := o.Grace
	if grace <= 0 {
		grace = server.DefaultGrace
	}
	forced, err := srv.Serve(ctx, ln, server.ServeOptions{
		Cert: o.cert, Grace: grace, Hurry: hurry,
		Stopping: func(requests int) {
			logOut.Flush()
			fmt.Fprintf(o.errOut, "movitera server: stopping; waiting up to %v for %s in progress (interrupt again to stop now)\n",
				grace, plural(requests, "request"))
		},
	})
	logOut.Flush()
	if forced > 0 {
		were := "were"
		if forced == 1 {
			were = "was"
		}
		fmt.Fprintf(o.errOut, "movitera server: closed %s that %s still open\n", plural(forced, "connection"), were)
	}
	if err == nil || errors.Is(err, context.Canceled) {
		fmt.Fprintln(o.errOut, "movitera server stopped")
		return srv.Close()
	}
	return err
}

// stopSignals is ctx, also done at the first of o.signals, and a channel
// closed at the second, which ends the grace period. end stops watching.
func (o *serverOptions) stopSignals(ctx context.Context) (_ context.Context, hurry <-chan struct{}, end func()) {
	ctx, cancel := context.WithCancel(ctx)
	h, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer cancel()
		for n := 1; ; n++ {
			select {
			case <-o.signals: // nil without signals (tests): never
			case <-done:
				return
			}
			if n > 1 {
				close(h)
				return
			}
			cancel()
		}
	}()
	return ctx, h, func() { close(done) }
}

func printDev(w io.Writer, path string, c *server.DevCredentials) {
	var teams []string
	for _, t := range c.Teams {
		teams = append(teams, t.Slug+" ("+string(t.Role)+")")
	}
	fmt.Fprintf(w, `Development vault (credentials also in %s):
  email        %s
  password     %s
  TOTP secret  %s   (add it to an authenticator app)
  teams        %s
  token        %s   (team acme)
Next: MOVITERA_SERVER=%s movitera login
`, path, c.Email, c.Password, c.TOTPSecret, strings.Join(teams, ", "), c.Token, c.ServerURL)
}
