package client

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/oauth2"

	"github.com/movitera/movitera/internal/movitera"
)

// UserInfo is the answer of GET /api/v1/user.
type UserInfo struct {
	User  movitera.User   `json:"user"`
	Teams []movitera.Team `json:"teams"`
	Token movitera.Token  `json:"token"`
}

// TeamRole returns the user's role in a team, and whether they belong to it.
func (u *UserInfo) TeamRole(slug string) (movitera.Role, bool) {
	for _, t := range u.Teams {
		if t.Slug == slug {
			return t.Role, true
		}
	}
	return "", false
}

// User returns the calling token's user, teams and the token itself.
func (c *Client) User(ctx context.Context) (*UserInfo, error) {
	var out UserInfo
	err := c.do(ctx, request{method: "GET", path: "/api/v1/user", idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ListOptions filter a token list.
type ListOptions struct {
	IncludeRevoked bool
	Type           movitera.ClientType
	Cursor         string
	Limit          int
}

// TokenPage is one page of a token list.
type TokenPage struct {
	Tokens     []movitera.Token `json:"tokens"`
	NextCursor *string          `json:"next_cursor"`
}

// ListTokens fetches one page of a team's tokens.
func (c *Client) ListTokens(ctx context.Context, team string, o ListOptions) (*TokenPage, error) {
	q := url.Values{}
	if o.IncludeRevoked {
		q.Set("include_revoked", "true")
	}
	if o.Type != "" {
		q.Set("type", string(o.Type))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	var out TokenPage
	err := c.do(ctx, request{method: "GET", path: teamPath(team, "tokens"), query: q, idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// EachTokenPage walks every page of a list, calling fn per page, so that
// callers can stream instead of holding the whole list.
func (c *Client) EachTokenPage(ctx context.Context, team string, o ListOptions, fn func([]movitera.Token) error) error {
	for {
		page, err := c.ListTokens(ctx, team, o)
		if err != nil {
			return err
		}
		if err := fn(page.Tokens); err != nil {
			return err
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return nil
		}
		o.Cursor = *page.NextCursor
	}
}

// AllTokens fetches every page of a list.
func (c *Client) AllTokens(ctx context.Context, team string, o ListOptions) ([]movitera.Token, error) {
	var all []movitera.Token
	err := c.EachTokenPage(ctx, team, o, func(ts []movitera.Token) error {
		all = append(all, ts...)
		return nil
	})
	return all, err
}

// CreateRequest is the body of a token creation. ExpiresInDays nil means
// never expires.
type CreateRequest struct {
	Name          string              `json:"name"`
	ClientType    movitera.ClientType `json:"client_type"`
	ExpiresInDays *int                `json:"expires_in_days"`
}

// Created is a new token with its secret, shown once.
type Created struct {
	Token  movitera.Token `json:"token"`
	Secret string         `json:"secret"`
}

// CreateToken creates a token. With an idempotency key the request is
// retried after network errors and never makes two tokens.
func (c *Client) CreateToken(ctx context.Context, team string, r CreateRequest, idempotencyKey string) (*Created, error) {
	req := request{method: "POST", path: teamPath(team, "tokens"), body: r}
	if idempotencyKey != "" {
		req.header = map[string][]string{"Idempotency-Key": {idempotencyKey}}
		req.idempotent = true
	}
	var out Created
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConfirmSecondFactor confirms the calling token for sensitive actions with
// a TOTP code, and returns until when.
func (c *Client) ConfirmSecondFactor(ctx context.Context, code string) (time.Time, error) {
	var out struct {
		ConfirmedUntil time.Time `json:"confirmed_until"`
	}
	err := c.do(ctx, request{method: "POST", path: "/api/v1/second-factor", body: map[string]string{"code": code}}, &out)
	return out.ConfirmedUntil, err
}

// RevokeToken revokes one token; revoking a revoked one is not an error.
func (c *Client) RevokeToken(ctx context.Context, team, id string) (*movitera.Token, error) {
	var out struct {
		Token movitera.Token `json:"token"`
	}
	err := c.do(ctx, request{method: "DELETE", path: teamPath(team, "tokens", id), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Token, nil
}

// RevokeResult is the outcome of one id in a bulk revoke.
type RevokeResult struct {
	ID     string          `json:"id"`
	Status string          `json:"status"` // revoked, already_revoked, not_found
	Token  *movitera.Token `json:"token"`
}

// Bulk revoke outcomes.
const (
	RevokeStatusRevoked        = "revoked"
	RevokeStatusAlreadyRevoked = "already_revoked"
	RevokeStatusNotFound       = "not_found"
)

// RevokeTokens revokes several tokens at once, with a result per id.
func (c *Client) RevokeTokens(ctx context.Context, team string, ids []string) ([]RevokeResult, error) {
	var out struct {
		Results []RevokeResult `json:"results"`
	}
	err := c.do(ctx, request{method: "POST", path: teamPath(team, "tokens", "revoke"), body: map[string][]string{"ids": ids}, idempotent: true}, &out)
	return out.Results, err
}

// RevokeSecret revokes a token from its secret alone (RFC 7009). The server
// answers the same whether or not the token existed.
func (c *Client) RevokeSecret(ctx context.Context, secret string) error {
	return c.do(ctx, request{method: "POST", path: "/oauth/revoke", form: url.Values{"token": {secret}}, idempotent: true, noAuth: true}, nil)
}

func teamPath(team string, parts ...string) string {
	p := "/api/v1/teams/" + url.PathEscape(team)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// DeviceClientID is the registered OAuth client of this CLI.
const DeviceClientID = "movitera-cli"

// OAuthConfig is the device-flow configuration of the vault for a client
// id, with credentials sent in the form body (AuthStyleInParams: the
// auto-detected style would cost two requests per poll).
func (c *Client) OAuthConfig(clientID string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID,
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: c.base + "/oauth/device/code",
			TokenURL:      c.base + "/oauth/token",
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
}

// OAuthContext returns ctx carrying this client's HTTP client, so that the
// device flow goes through the same proxy, CA and debug settings.
func (c *Client) OAuthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.http)
}
