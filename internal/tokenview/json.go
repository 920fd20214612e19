package tokenview

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/movitera/movitera/internal/movitera"
)

// JSON is a token as --json prints it: the API's fields, times in RFC 3339
// UTC or null, and the derived state (active, expired or revoked). Strings
// are JSON-escaped, control characters included, so names need no
// cleaning here.
type JSON struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Type       movitera.ClientType `json:"type"`
	Prefix     string              `json:"prefix"`
	Team       string              `json:"team"`
	CreatedBy  string              `json:"created_by,omitempty"`
	CreatedAt  time.Time           `json:"created_at"`
	LastUsedAt *time.Time          `json:"last_used_at"`
	ExpiresAt  *time.Time          `json:"expires_at"`
	RevokedAt  *time.Time          `json:"revoked_at"`
	State      movitera.State      `json:"state"`
}

// NewJSON derives the JSON view of a token at a moment.
func NewJSON(t movitera.Token, now time.Time) JSON {
	return JSON{
		ID: t.ID, Name: t.Name, Type: t.ClientType, Prefix: t.Prefix, Team: t.Team,
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt.UTC(),
		LastUsedAt: utc(t.LastUsedAt), ExpiresAt: utc(t.ExpiresAt), RevokedAt: utc(t.RevokedAt),
		State: t.StateAt(now),
	}
}

func utc(p *time.Time) *time.Time {
	if p == nil {
		return nil
	}
	v := p.UTC()
	return &v
}

// ArrayWriter streams a JSON array one element at a time, so that a list
// of any length is printed without holding it: "[]" when empty, otherwise
// one element per line.
type ArrayWriter struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	n   int
}

// NewArrayWriter starts an array on w. Close must be called.
func NewArrayWriter(w io.Writer) *ArrayWriter {
	a := &ArrayWriter{w: bufio.NewWriterSize(w, 64<<10)}
	a.enc = json.NewEncoder(&a.buf)
	a.enc.SetEscapeHTML(false)
	return a
}

// Add writes one element.
func (a *ArrayWriter) Add(v any) error {
	a.buf.Reset()
	if err := a.enc.Encode(v); err != nil {
		return err
	}
	if a.n == 0 {
		a.w.WriteString("[\n")
	} else {
		a.w.WriteString(",\n")
	}
	a.n++
	_, err := a.w.Write(bytes.TrimSuffix(a.buf.Bytes(), []byte("\n")))
	return err
}

// Close ends the array and flushes.
func (a *ArrayWriter) Close() error {
	if a.n == 0 {
		a.w.WriteString("[]\n")
	} else {
		a.w.WriteString("\n]\n")
	}
	return a.w.Flush()
}

// WriteObject writes one value as JSON and a newline.
func WriteObject(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
