// Package server is movitera's reference vault: the token API, OAuth 2.0
// device authorization (RFC 8628) with its HTML pages, and token revocation
// (RFC 7009), on an embedded SQLite file. docs/api.md is its contract.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/movitera/movitera/internal/store"
)

// Defaults of Config.
const (
	DefaultPollInterval  = 5 * time.Second
	DefaultDeviceCodeTTL = 15 * time.Minute
)

// Lifetimes the server enforces.
const (
	secondFactorWindow = 10 * time.Minute
	idempotencyTTL     = 24 * time.Hour
	sessionTTL         = 12 * time.Hour
	deviceTokenDays    = 90
	usageFlushEvery    = time.Minute // at most one last_used_at write per token per minute
	deviceKeepAfter    = 24 * time.Hour
)

// Config configures a Server. Only DataDir is required.
type Config struct {
	DataDir       string           // holds movitera.db, server.key and dev-credentials.json
	Dev           bool             // the sign-in page points at dev-credentials.json
	PollInterval  time.Duration    // device flow polling interval; default 5s, whole seconds
	DeviceCodeTTL time.Duration    // lifetime of a device code; default 15m
	Now           func() time.Time // the clock; default time.Now (tests move it)
	Logger        *slog.Logger     // request log; default discards

	// PublicURL is the server's address as people's browsers reach it (for
	// example https://vault.example.com behind a reverse proxy): the base of
	// verification_uri. Empty means the address of the listening socket the
	// request came in on. The request's Host header is never used.
	PublicURL string

	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For header names the client, for the rate limits and the
	// request log. None (the default): the client is the socket's peer and
	// forwarding headers are ignored.
	TrustedProxies []netip.Prefix
}

// Server is the vault. Create it with Open, serve Handler, end with Close.
type Server struct {
	cfg     Config
	db      *store.Store
	key     *sealer
	log     *slog.Logger
	limits  *limiters
	proxies trustedProxies
	usage   *usage
	auth    *authCache
	pages   *pages
	handler http.Handler

	stop      chan struct{}
	done      sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	unlock    func() // releases the data directory's lock
}

// Open opens (or creates) the data directory and its database, applies the
// migrations and starts the background work (coalesced last-use writes,
// pruning). Close must be called.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("server: no data directory")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	cfg.PollInterval = cfg.PollInterval.Round(time.Second)
	if cfg.PollInterval < time.Second {
		cfg.PollInterval = time.Second
	}
	if cfg.DeviceCodeTTL <= 0 {
		cfg.DeviceCodeTTL = DefaultDeviceCodeTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.PublicURL != "" {
		u, err := CheckPublicURL(cfg.PublicURL)
		if err != nil {
			return nil, err
		}
		cfg.PublicURL = u
	}
	var proxies trustedProxies
	for _, p := range cfg.TrustedProxies {
		p, err := normalProxy(p)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy: %w", err)
		}
		proxies = append(proxies, p)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := tighten(cfg.DataDir, 0o700, cfg.Logger); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	key, err := loadKey(filepath.Join(cfg.DataDir, "server.key"), cfg.Logger)
	if err != nil {
		unlock()
		return nil, err
	}
	db, err := store.Open(ctx, filepath.Join(cfg.DataDir, "movitera.db"))
	if err != nil {
		unlock()
		return nil, err
	}
	s := &Server{
		cfg: cfg, db: db, key: key, log: cfg.Logger, unlock: unlock,
		limits: newLimiters(), proxies: proxies, stop: make(chan struct{}),
	}
	s.usage = newUsage()
	s.auth = newAuthCache()
	s.pages = newPages()
	s.handler = s.routes()
	s.done.Add(1)
	go s.background()
	return s, nil
}

// Handler serves the whole API and the authorization pages.
func (s *Server) Handler() http.Handler { return s.handler }

// DataDir is the directory the server keeps its state in.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// Close stops the background work, writes the pending last-use times and
// closes the database.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.done.Wait()
		err := s.FlushUsage(context.Background())
		s.closeErr = errors.Join(err, s.db.Close())
		s.unlock()
	})
	return s.closeErr
}

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

func (s *Server) background() {
	defer s.done.Done()
	flush := time.NewTicker(usageFlushEvery)
	prune := time.NewTicker(time.Hour)
	defer flush.Stop()
	defer prune.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-flush.C:
			if err := s.FlushUsage(context.Background()); err != nil {
				s.log.Error("writing last use of tokens", "err", err)
			}
			s.limits.prune(s.now())
		case <-prune.C:
			if err := s.prune(context.Background()); err != nil {
				s.log.Error("pruning", "err", err)
			}
		}
	}
}

func (s *Server) prune(ctx context.Context) error {
	now := s.now()
	return s.db.Prune(ctx, now.Add(-idempotencyTTL), now, now.Add(-deviceKeepAfter), totpStep(now)-2)
}

// Serve serves the handler on ln until ctx is done, then shuts down
// gracefully (in-flight requests get up to 10 seconds). With certFile and
// keyFile it serves HTTPS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- hs.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := hs.Shutdown(shutCtx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}
