// Package server is movitera's reference vault: the token API, OAuth 2.0
// device authorization (RFC 8628) with its HTML pages, and token revocation
// (RFC 7009), on an embedded SQLite file. docs/api.md is its contract.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

// DefaultGrace is how long requests in progress may take to finish once
// Serve is asked to stop.
const DefaultGrace = 10 * time.Second

// ServeOptions tune Serve. The zero value serves plain HTTP with
// DefaultGrace.
type ServeOptions struct {
	// Cert, when set, makes Serve serve HTTPS with it.
	Cert *tls.Certificate
	// Grace is how long requests in progress may take to finish once ctx is
	// done; what is still open then is closed. Default DefaultGrace.
	Grace time.Duration
	// Hurry ends the grace period at once when it is closed or sent to.
	Hurry <-chan struct{}
	// Stopping, when set, is called as the shutdown begins with the number
	// of requests in progress, when there are any.
	Stopping func(requests int)
}

// Serve serves the handler on ln until ctx is done, then shuts down:
// connections that have not sent a request yet are closed at once, idle
// ones as soon as they are, and requests in progress get until the grace
// period ends (see ServeOptions); the connections still open then are
// closed, and forced is how many. A shutdown that had to close some is
// still a clean one: err is nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener, opts ServeOptions) (forced int, err error) {
	grace := opts.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	conns := newConnTracker()
	var inProgress atomic.Int64 // requests whose handler runs
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inProgress.Add(1)
			defer inProgress.Add(-1)
			s.handler.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(errorLog{s.log, conns}, "", 0),
		ConnState:         conns.track,
	}
	errc := make(chan error, 1)
	go func() {
		if opts.Cert != nil {
			// ServeTLS adds HTTP/2 to a clone of this configuration.
			hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*opts.Cert}}
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return 0, err
	case <-ctx.Done():
	}
	// net/http's Shutdown would wait up to 5 seconds for a connection
	// that has sent nothing: close those now, and any accepted from here on.
	conns.stopping()
	if n := inProgress.Load(); n > 0 && opts.Stopping != nil {
		opts.Stopping(int(n))
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	go func() {
		select {
		case <-opts.Hurry:
			cancel()
		case <-shutCtx.Done():
		}
	}()
	if err = hs.Shutdown(shutCtx); err != nil && shutCtx.Err() != nil {
		// The grace period is over: close what is left, and wait (a little)
		// for its handlers to return before the database is closed.
		forced = conns.open()
		hs.Close() // its error could only be the listener's, closed already
		err = nil
		conns.wait(5 * time.Second)
	}
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return forced, err
}

// errorLog is net/http's error log: warnings, but for the failed TLS
// handshakes of the connections Serve closed itself while stopping.
type errorLog struct {
	log   *slog.Logger
	conns *connTracker
}

func (e errorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	if !e.conns.closedHandshake(msg) {
		e.log.Warn(msg)
	}
	return len(p), nil
}

// connTracker follows the server's connections through http.Server's
// ConnState hook. Opening and closing a connection take its mutex; the
// transitions of every request (active, idle) only set a flag without
// locking, so the hook adds no lock to the request path.
type connTracker struct {
	conns sync.Map // net.Conn → *atomic.Bool: true once it has sent a request

	mu        sync.Mutex
	openConns int             // connections in conns
	shutdown  bool            // closing new connections as they come
	closed    map[string]bool // the handshake errors of those it closed
	empty     chan struct{}   // closed when shutdown and no connection is left
}

func newConnTracker() *connTracker {
	return &connTracker{closed: make(map[string]bool), empty: make(chan struct{})}
}

func (t *connTracker) track(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateActive:
		if v, ok := t.conns.Load(c); ok && !v.(*atomic.Bool).Load() {
			v.(*atomic.Bool).Store(true)
		}
	case http.StateNew:
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.shutdown {
			c.Close()
			t.noteClosedHandshake(c)
			return
		}
		t.conns.Store(c, new(atomic.Bool))
		t.openConns++
	case http.StateClosed, http.StateHijacked:
		t.mu.Lock()
		defer t.mu.Unlock()
		t.forget(c)
	}
}

// stopping closes the connections that have not sent a request yet, and
// those that open from now on.
func (t *connTracker) stopping() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.shutdown = true
	t.conns.Range(func(k, v any) bool {
		if !v.(*atomic.Bool).Load() {
			c := k.(net.Conn)
			c.Close()
			t.noteClosedHandshake(c)
			t.forget(c)
		}
		return true
	})
	t.checkEmpty()
}

// forget drops c from the open connections. t.mu is held.
func (t *connTracker) forget(c net.Conn) {
	if _, ok := t.conns.LoadAndDelete(c); ok {
		t.openConns--
	}
	t.checkEmpty()
}

// noteClosedHandshake records that c, closed before its first request,
// will fail its TLS handshake, as net/http then logs. t.mu is held.
func (t *connTracker) noteClosedHandshake(c net.Conn) {
	if _, ok := c.(*tls.Conn); ok {
		t.closed["http: TLS handshake error from "+c.RemoteAddr().String()+": "] = true
	}
}

// closedHandshake reports whether msg is the handshake error of a
// connection closed before its first request.
func (t *connTracker) closedHandshake(msg string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for prefix := range t.closed {
		if strings.HasPrefix(msg, prefix) {
			delete(t.closed, prefix)
			return true
		}
	}
	return false
}

// open is the number of connections not closed yet, but for those closed
// before their first request.
func (t *connTracker) open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.openConns
}

// wait waits until every connection is closed after stopping (so their
// handlers have returned), for at most d.
func (t *connTracker) wait(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.empty:
	case <-timer.C:
	}
}

// checkEmpty closes empty once shut down with no connection left. t.mu is
// held.
func (t *connTracker) checkEmpty() {
	if t.shutdown && t.openConns == 0 {
		select {
		case <-t.empty:
		default:
			close(t.empty)
		}
	}
}
