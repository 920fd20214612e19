// Package movitera holds the vault's domain: client types, tokens, their
// derived states, the expiry rules and the secret format. It is shared by the
// CLI and the reference server and imports the standard library only.
package movitera
