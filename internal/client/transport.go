package client

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// HTTPOptions configure the shared HTTP client.
type HTTPOptions struct {
	Debug   io.Writer     // when set, every request and answer is traced here, redacted
	Timeout time.Duration // per request; 0 means 30s
}

// NewHTTPClient returns the HTTP client every request uses, the device flow
// included: HTTPS_PROXY/NO_PROXY from the environment, the system's CAs
// (SSL_CERT_FILE and SSL_CERT_DIR are honoured by Go on Unix), a timeout,
// and the redacting trace with --debug.
func NewHTTPClient(o HTTPOptions) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	var rt http.RoundTripper = t
	if o.Debug != nil {
		rt = &debugTransport{next: t, w: o.Debug}
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	return &http.Client{Transport: rt, Timeout: timeout, CheckRedirect: sameOrigin}
}

// sameOrigin follows a redirect only within the origin the request was
// sent to: Go would otherwise carry the Authorization header (and a
// 307/308 its body, a secret included) to another scheme, such as a
// downgrade from https to http.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return refusedError("stopped after 5 redirects")
	}
	from := via[0].URL
	if req.URL.Scheme != from.Scheme || req.URL.Host != from.Host {
		return refusedError(fmt.Sprintf("refusing to follow a redirect from %s://%s to %s://%s: set --server to the vault's own address", from.Scheme, from.Host, req.URL.Scheme, req.URL.Host))
	}
	return nil
}

// refusedError is a request the client itself declined to complete; it
// is the same on every attempt, so it is never retried.
type refusedError string

func (e refusedError) Error() string { return string(e) }

// debugTransport traces HTTP on stderr with every secret redacted.
type debugTransport struct {
	next http.RoundTripper
	w    io.Writer
	mu   sync.Mutex
}

func (d *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var b strings.Builder
	u := *req.URL
	u.RawQuery = redactQuery(u.RawQuery)
	fmt.Fprintf(&b, "> %s %s\n", req.Method, u.String())
	writeHeaders(&b, "> ", req.Header)
	if req.Body != nil && req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			data, _ := io.ReadAll(body)
			if len(data) > 0 {
				fmt.Fprintf(&b, "> %s\n", Redact(string(data)))
			}
		}
	}
	start := time.Now()
	resp, err := d.next.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(&b, "< error after %s: %v\n", time.Since(start).Round(time.Millisecond), err)
		d.flush(b.String())
		return nil, err
	}
	fmt.Fprintf(&b, "< %s (%s)\n", resp.Status, time.Since(start).Round(time.Millisecond))
	writeHeaders(&b, "< ", resp.Header)
	data, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if len(data) > 0 && rerr == nil {
		fmt.Fprintf(&b, "< %s\n", Redact(string(data)))
	}
	d.flush(b.String())
	return resp, nil
}

func (d *debugTransport) flush(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	io.WriteString(d.w, s)
}

// sensitiveHeaders are never traced. The Idempotency-Key is one: with the
// calling token it replays a creation's answer, the secret included.
var sensitiveHeaders = map[string]bool{"Authorization": true, "Cookie": true, "Set-Cookie": true, "Proxy-Authorization": true, "Idempotency-Key": true}

func writeHeaders(b *strings.Builder, mark string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.Join(h[k], ", ")
		if sensitiveHeaders[k] {
			scheme, _, found := strings.Cut(v, " ")
			if found && k == "Authorization" {
				v = scheme + " [REDACTED]"
			} else {
				v = "[REDACTED]"
			}
		}
		fmt.Fprintf(b, "%s%s: %s\n", mark, k, v)
	}
}

// sensitiveFields are JSON keys and form fields whose values are never
// traced.
var sensitiveFields = []string{"secret", "access_token", "refresh_token", "device_code", "user_code", "token", "code", "password", "otp", "csrf_token"}

// The redaction patterns are compiled on first use (--debug only), not at
// every start of the binary.
var (
	jsonField = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`"(` + strings.Join(sensitiveFields, "|") + `)"\s*:\s*(?:"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)`)
	})
	formField = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(^|[?&])(` + strings.Join(sensitiveFields, "|") + `)=[^&"\s]*`)
	})
	secretLike = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`mv[a-z]_[0-9A-Za-z]{20,}`) })
)

// Redact hides every secret in a request or response body: sensitive JSON
// keys (string or number values), form fields and URL query parameters
// (also inside JSON strings, as in verification_uri_complete), and
// anything shaped like a movitera secret.
func Redact(s string) string {
	s = jsonField().ReplaceAllStringFunc(s, redactJSONField)
	s = formField().ReplaceAllString(s, `$1$2=[REDACTED]`)
	return secretLike().ReplaceAllString(s, "[REDACTED]")
}

// redactJSONField hides the value of one sensitive JSON field. "code" is
// both a second-factor code (digits: hidden) and a problem's stable error
// code (a word such as "token_revoked": kept, a trace needs it).
func redactJSONField(field string) string {
	key := jsonField().FindStringSubmatch(field)[1]
	_, value, _ := strings.Cut(field, ":")
	if key == "code" && !strings.ContainsAny(value, "0123456789") {
		return field
	}
	return `"` + key + `":"[REDACTED]"`
}

func redactQuery(q string) string {
	if q == "" {
		return q
	}
	return formField().ReplaceAllString(q, `$1$2=[REDACTED]`)
}
