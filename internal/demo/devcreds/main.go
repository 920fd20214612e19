// Command devcreds reads the dev-credentials.json that "movitera server
// --dev" writes and prints one of its fields, or the current TOTP code of
// the dev user. The demo (internal/demo/demo.sh) uses it.
//
//	devcreds FILE server_url|email|password|totp_secret|token|totp
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

type devCredentials struct {
	ServerURL  string `json:"server_url"`
	Email      string `json:"email"`
	Password   string `json:"password"`
	TOTPSecret string `json:"totp_secret"`
	Token      string `json:"token"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devcreds:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: devcreds FILE server_url|email|password|totp_secret|token|totp")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var c devCredentials
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	var v string
	switch args[1] {
	case "server_url":
		v = c.ServerURL
	case "email":
		v = c.Email
	case "password":
		v = c.Password
	case "totp_secret":
		v = c.TOTPSecret
	case "token":
		v = c.Token
	case "totp":
		// As authenticator apps do it: 6 digits, SHA-1, 30-second steps.
		v, err = totp.GenerateCodeCustom(c.TOTPSecret, time.Now(), totp.ValidateOpts{
			Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown field %q", args[1])
	}
	if v == "" {
		return fmt.Errorf("%s: no %s", args[0], args[1])
	}
	fmt.Println(v)
	return nil
}
