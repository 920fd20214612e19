package movitera

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"strings"
)

// Secret format: "mv" + one letter per client type + "_", then 32 base62
// characters of randomness (about 190 bits), then a 6-character base62
// CRC32 of everything before it. Scanners and the CLI can tell a token from
// noise offline.
const (
	secretRandomLen   = 32
	secretChecksumLen = 6
	secretTypeLen     = 4 // "mvX_"
	// SecretLen is the length of every secret.
	SecretLen = secretTypeLen + secretRandomLen + secretChecksumLen
	// DisplayPrefixLen is how much of a secret is kept and shown.
	DisplayPrefixLen = secretTypeLen + 8
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

var typeTags = map[ClientType]string{
	TypeCLI:       "mvc_",
	TypeSDK:       "mvs_",
	TypeExtension: "mve_",
	TypeAgent:     "mva_",
	TypeOther:     "mvo_",
}

// ErrMalformedSecret is returned for anything that is not a movitera secret.
var ErrMalformedSecret = errors.New("not a movitera access token")

// NewSecret returns a fresh secret for a client type.
func NewSecret(t ClientType) (string, error) {
	tag, ok := typeTags[t]
	if !ok {
		return "", errors.New("unknown client type " + string(t))
	}
	var b strings.Builder
	b.Grow(SecretLen)
	b.WriteString(tag)
	buf := make([]byte, 64)
	for n := 0; n < secretRandomLen; {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, c := range buf {
			// 248 = 4*62: rejection keeps the distribution uniform.
			if c < 248 && n < secretRandomLen {
				b.WriteByte(base62[c%62])
				n++
			}
		}
	}
	body := b.String()
	return body + checksum(body), nil
}

// ParseSecret checks a secret's shape and checksum and returns its type.
func ParseSecret(s string) (ClientType, error) {
	if len(s) != SecretLen {
		return "", ErrMalformedSecret
	}
	var typ ClientType
	for t, tag := range typeTags {
		if strings.HasPrefix(s, tag) {
			typ = t
			break
		}
	}
	if typ == "" {
		return "", ErrMalformedSecret
	}
	for i := secretTypeLen; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return "", ErrMalformedSecret
		}
	}
	body := s[:len(s)-secretChecksumLen]
	if checksum(body) != s[len(body):] {
		return "", ErrMalformedSecret
	}
	return typ, nil
}

// HashSecret is the only form of a secret the server keeps.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// DisplayPrefix is the part of a secret shown in lists.
func DisplayPrefix(s string) string {
	if len(s) < DisplayPrefixLen {
		return s
	}
	return s[:DisplayPrefixLen]
}

func checksum(body string) string {
	n := crc32.ChecksumIEEE([]byte(body))
	out := make([]byte, secretChecksumLen)
	for i := secretChecksumLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out)
}

// PublicPrefix is DisplayPrefix for a value that may not be a secret at
// all: the prefix of a well-formed secret (public, as lists show it), and
// a fixed phrase for anything else, so that a mistyped or foreign token is
// never echoed, even in part.
func PublicPrefix(s string) string {
	if _, err := ParseSecret(s); err != nil {
		return "not a movitera token"
	}
	return DisplayPrefix(s)
}

// LooksLikeSecret reports whether s has a secret's tag and is longer than a
// display prefix: a secret, perhaps mistyped, that must never be echoed.
func LooksLikeSecret(s string) bool {
	if len(s) <= DisplayPrefixLen {
		return false
	}
	for _, tag := range typeTags {
		if strings.HasPrefix(s, tag) {
			return true
		}
	}
	return false
}
