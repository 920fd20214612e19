// Package client is the typed HTTP client of the vault API (docs/api.md).
// Every command talks to the server through it.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one vault server, optionally with a bearer token.
type Client struct {
	base      string
	token     string
	http      *http.Client
	userAgent string
	backoff   []time.Duration
	rejected  func(context.Context, *APIError) error
}

// Options configure a Client.
type Options struct {
	Server     string       // base URL, e.g. http://127.0.0.1:8270
	Token      string       // bearer secret; "" for unauthenticated calls
	HTTPClient *http.Client // from NewHTTPClient; nil for a default one
	UserAgent  string
	// Rejected, when set, is called when the server refuses Token itself
	// (APIError.IsAuth); what it returns is returned in place of the
	// server's problem.
	Rejected func(context.Context, *APIError) error
}

// New returns a client. It refuses to carry a token over plain HTTP to a
// host that is not a loopback address.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.Server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q", o.Server)
	}
	if o.Token != "" && u.Scheme != "https" && !IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("refusing to send a token over plain HTTP to %s: use an https:// server URL", u.Host)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = NewHTTPClient(HTTPOptions{})
	}
	ua := o.UserAgent
	if ua == "" {
		ua = "movitera"
	}
	return &Client{
		base: strings.TrimRight(o.Server, "/"), token: o.Token, http: hc, userAgent: ua,
		backoff:  []time.Duration{250 * time.Millisecond, time.Second, 3 * time.Second},
		rejected: o.Rejected,
	}, nil
}

// Server is the base URL the client talks to.
func (c *Client) Server() string { return c.base }

// Token is the bearer secret the client sends ("" for none).
func (c *Client) Token() string { return c.token }

// HTTPClient is the underlying client, with proxy, CA and debug settings,
// for the OAuth device flow.
func (c *Client) HTTPClient() *http.Client { return c.http }

// WithToken returns a copy of the client that sends another token, without
// the Rejected handler, which belonged to the first.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	cp.rejected = nil
	return &cp
}

// IsLoopback reports whether host names this machine (localhost, 127/8, ::1).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// request is one API call.
type request struct {
	method, path string
	query        url.Values
	body         any // JSON-encoded when not nil
	form         url.Values
	header       http.Header
	idempotent   bool // safe to retry after a network error
	noAuth       bool
}

// do sends a request, retrying idempotent ones with backoff, and decodes a
// 2xx JSON answer into out (when not nil) or a problem into *APIError.
func (c *Client) do(ctx context.Context, r request, out any) error {
	var payload []byte
	contentType := ""
	switch {
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return err
		}
		payload, contentType = b, "application/json"
	case r.form != nil:
		payload, contentType = []byte(r.form.Encode()), "application/x-www-form-urlencoded"
	}
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, r.method, u, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		for k, v := range r.header {
			req.Header[k] = v
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.userAgent)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if c.token != "" && !r.noAuth {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := c.http.Do(req)
		retry, wait := false, time.Duration(0)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			retry = r.idempotent && !permanent(err)
			err = &NetworkError{Server: c.base, Err: err}
		} else {
			err = decode(resp, out)
			var ae *APIError
			if errors.As(err, &ae) && r.idempotent && (ae.Status == 502 || ae.Status == 503 || ae.Status == 504 || ae.Status == 429) {
				retry, wait = true, ae.RetryAfter
			}
		}
		if !retry || attempt >= len(c.backoff) {
			var ae *APIError
			if c.rejected != nil && c.token != "" && !r.noAuth && errors.As(err, &ae) && ae.IsAuth() {
				return c.rejected(ctx, ae)
			}
			return err
		}
		if wait == 0 || wait > 10*time.Second {
			wait = c.backoff[attempt]
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// permanent reports whether a network error will be the same on every
// attempt: the server's certificate is not trusted, it answered an HTTPS
// request in plain HTTP, or the client declined to follow a redirect.
// Retrying those only delays the answer.
func permanent(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var refused refusedError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &refused) ||
		plainHTTPAnswer(err)
}

func decode(resp *http.Response, out any) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return &NetworkError{Server: resp.Request.URL.Host, Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || len(body) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("the server sent an answer this CLI cannot read (%v): check --server points at a movitera vault", err)
		}
		return nil
	}
	return problemFrom(resp, body)
}

// NetworkError is a failure to reach the server.
type NetworkError struct {
	Server string
	Err    error
}

func (e *NetworkError) Error() string {
	var ua x509.UnknownAuthorityError
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(e.Err, &ua):
		return fmt.Sprintf("cannot reach the vault at %s: its certificate is signed by an authority this machine does not trust; if the vault uses a private CA, set SSL_CERT_FILE to that CA's certificate", e.Server)
	case errors.As(e.Err, &cv):
		return fmt.Sprintf("cannot reach the vault at %s: its certificate was refused (%v); check the address (--server, MOVITERA_SERVER)", e.Server, cv.Err)
	case plainHTTPAnswer(e.Err):
		return fmt.Sprintf("cannot reach the vault at %s: the server there answers plain HTTP, not HTTPS; check the address (--server, MOVITERA_SERVER)", e.Server)
	}
	return fmt.Sprintf("cannot reach the vault at %s: %v; check the address (--server, MOVITERA_SERVER) and your network or proxy", e.Server, unwrapURLError(e.Err))
}

// plainHTTPAnswer reports whether an https:// request was answered in plain
// HTTP (net/http says so only in its error's text).
func plainHTTPAnswer(err error) bool {
	if ne, ok := err.(*NetworkError); ok {
		err = ne.Err
	}
	return err != nil && strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

func (e *NetworkError) Unwrap() error { return e.Err }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}
