package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

// maxBody is the largest request body accepted (64 KiB).
const maxBody = 64 << 10

var errTooLarge = errors.New("body too large")

// api adapts a handler that returns a problem.
func (s *Server) api(h func(http.ResponseWriter, *http.Request) *problem) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p := h(w, r); p != nil {
			writeProblem(w, p)
		}
	}
}

func (s *Server) internal(r *http.Request, err error) *problem {
	s.log.Error("internal error", "method", r.Method, "path", logPath(r.URL.Path), "err", err)
	return errInternal
}

// decodeJSON reads a request body of at most 64 KiB holding exactly one JSON
// object with only known fields.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) *problem {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return newProblem("body_too_large", "The request body is over 64 KiB. Send a smaller request.")
	}
	if err != nil {
		return newProblem("invalid_request", "The request body could not be read. Send it again.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return newProblem("invalid_request", "The request body is not valid JSON for this endpoint ("+printable(err.Error())+"). Check the fields against docs/api.md.")
	}
	if dec.More() {
		return newProblem("invalid_request", "The request body holds more than one JSON value. Send a single object.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return newProblem("invalid_request", "The request body has trailing data after the JSON object. Send a single object.")
	}
	return nil
}

// parseForm reads a form body of at most 64 KiB.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	err := r.ParseForm()
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return err
}

// securityHeaders are set on every answer. The keys are in canonical form
// and the values are shared, read-only slices, so that setting them costs
// neither Header.Set's canonicalisation nor an allocation per request.
var securityHeaders = [...]struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Cache-Control", []string{"no-store"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
}

// secure sets the security headers on every answer.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, sh := range securityHeaders {
			h[sh.key] = sh.value[:1:1] // full: an Add elsewhere copies, never writes into it
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestNote is what a handler adds to its request's log line.
type requestNote struct {
	tokenID string
}

type requestNoteKey struct{}

// noteToken puts the id (never the secret) of the bearer token a request
// carried on its log line.
func noteToken(r *http.Request, id string) {
	if n, ok := r.Context().Value(requestNoteKey{}).(*requestNote); ok {
		n.tokenID = id
	}
}

// logRequests logs one line per request: method, path (never the query,
// which may hold a user code), status, duration, the client's IP address
// (clientIP) and, when the request carried a bearer token the server knows,
// that token's id. No header, cookie, body or secret is logged. With the request log off
// (--log-level above info) it adds nothing to a request.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !s.log.Enabled(ctx, slog.LevelInfo) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		note := &requestNote{}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(ctx, requestNoteKey{}, note)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		attrs := [...]slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", logPath(r.URL.Path)),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start).Round(time.Microsecond)),
			slog.String("client_ip", s.clientIP(r)),
			slog.String("token_id", note.tokenID),
		}
		n := len(attrs)
		if note.tokenID == "" {
			n-- // no token_id field when the request carried no known token
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "request", attrs[:n]...)
	})
}

// logPath is a request's path as the log shows it: a segment that looks
// like a secret (a raw client may put one in a path by mistake, e.g. a
// revoke by value instead of by id) shows only its public prefix.
func logPath(p string) string {
	if !strings.Contains(p, "mv") {
		return p // no segment can start with a secret's tag
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if movitera.LooksLikeSecret(seg) {
			segs[i] = movitera.DisplayPrefix(seg) + "…"
		}
	}
	return strings.Join(segs, "/")
}

// unrouted answers requests no route of mux matched (it is mux's catch-all
// route "/"): 405 with Allow when the path exists for another method, 404
// otherwise; problem+json under /api/ and /oauth/, a page elsewhere.
func (s *Server) unrouted(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != catchAll {
				allow = append(allow, m)
				if m == http.MethodGet {
					allow = append(allow, http.MethodHead) // GET routes answer HEAD too
				}
			}
		}
		isAPI := hasPrefix(r.URL.Path, "/api/") || hasPrefix(r.URL.Path, "/oauth/")
		if len(allow) > 0 {
			// One field, so that a client reading the first value sees them all.
			w.Header().Set("Allow", strings.Join(allow, ", "))
			if isAPI {
				writeProblem(w, newProblem("method_not_allowed", "This endpoint does not accept "+r.Method+". See docs/api.md for its methods."))
				return
			}
			s.pages.message(w, http.StatusMethodNotAllowed, "Method not allowed", "This page does not accept that kind of request.")
			return
		}
		if isAPI {
			writeProblem(w, newProblem("not_found", "There is no endpoint "+printable(r.URL.Path)+". See docs/api.md for the API."))
			return
		}
		s.pages.message(w, http.StatusNotFound, "Page not found", "There is no such page. To sign in a device, open /device.")
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
