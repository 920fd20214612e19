// Package config resolves the CLI's settings: flag > MOVITERA_* environment
// variable > config file > default. It is the only package that imports
// viper, and the only one that writes the config file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/movitera/movitera/internal/movitera"
)

// Defaults.
const (
	DefaultServer         = "http://127.0.0.1:8270"
	DefaultKeyringTimeout = 5 * time.Second
	fileName              = "config.yaml"
)

// Keys of the settings, shared by flags, environment and file.
const (
	KeyServer         = "server"
	KeyTeam           = "team"
	KeyToken          = "token"
	KeyOTP            = "otp"
	KeyKeyringTimeout = "keyring_timeout"
	KeyDebug          = "debug"
)

// Config is the resolved settings of one run.
type Config struct {
	Server         string        // base URL of the vault, without a trailing slash
	Team           string        // current team slug, "" when none chosen yet
	Token          string        // MOVITERA_TOKEN: used as given, the keyring untouched
	OTP            string        // MOVITERA_OTP or --otp
	KeyringTimeout time.Duration // bound on every keyring call
	Debug          bool

	Dir  string // the config directory (0700)
	File string // the config file (0600)

	// Warnings found while loading (for example a file with loose
	// permissions, now fixed); the caller prints them on stderr.
	Warnings []string

	file fileSettings
}

// fileSettings is what the config file holds. No secret is ever written
// to it.
type fileSettings struct {
	Server         string `yaml:"server,omitempty"`
	Team           string `yaml:"team,omitempty"`
	KeyringTimeout string `yaml:"keyring_timeout,omitempty"`
}

// Options say where to read from. Flags may be nil.
type Options struct {
	Flags      *pflag.FlagSet // flags named like the keys: server, team, otp, debug
	ConfigFile string         // --config, "" for the default
}

// Dir returns the config directory: $MOVITERA_CONFIG_DIR, else
// $XDG_CONFIG_HOME/movitera (or the platform's equivalent).
func Dir() (string, error) {
	if d := os.Getenv("MOVITERA_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a config directory (%v): set MOVITERA_CONFIG_DIR", err)
	}
	return filepath.Join(base, "movitera"), nil
}

// Load resolves every setting. A named config file must exist; a file that
// does not parse is an error naming it. Loading never writes, except to
// tighten a config file that others could read, or a config directory
// that others could write to.
func Load(o Options) (*Config, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	c := &Config{Dir: dir, File: filepath.Join(dir, fileName)}
	if o.ConfigFile != "" {
		c.File = o.ConfigFile
	}
	// A directory others can write to is tightened here, with a warning.
	// One that is not the person's is refused only where a credential
	// would be written in it: reading settings from it stays possible.
	if w, err := CheckDir(dir); err == nil && w != "" {
		c.Warnings = append(c.Warnings, w)
	}

	v := viper.New()
	v.SetConfigType("yaml")
	v.SetEnvPrefix("MOVITERA")
	v.SetDefault(KeyServer, DefaultServer)
	v.SetDefault(KeyKeyringTimeout, DefaultKeyringTimeout.String())
	for _, k := range []string{KeyServer, KeyTeam, KeyToken, KeyOTP, KeyKeyringTimeout, KeyDebug} {
		if err := v.BindEnv(k); err != nil {
			return nil, err
		}
		if o.Flags != nil {
			if f := o.Flags.Lookup(strings.ReplaceAll(k, "_", "-")); f != nil {
				if err := v.BindPFlag(k, f); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := c.readFile(v, o.ConfigFile != ""); err != nil {
		return nil, err
	}

	c.Server, err = NormalizeServer(v.GetString(KeyServer))
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("%s: %w", c.source(o, KeyServer), err)}
	}
	c.Team = strings.TrimSpace(v.GetString(KeyTeam))
	if c.Team != "" && !movitera.ValidTeamSlug(c.Team) {
		return nil, &Error{Err: fmt.Errorf("%s: invalid team %q: a team slug is lowercase letters, digits and dashes; see 'movitera teams list'", c.source(o, KeyTeam), c.Team)}
	}
	c.Token = strings.TrimSpace(v.GetString(KeyToken))
	c.OTP = strings.TrimSpace(v.GetString(KeyOTP))
	c.Debug = v.GetBool(KeyDebug)
	raw := v.GetString(KeyKeyringTimeout)
	c.KeyringTimeout, err = time.ParseDuration(strings.TrimSpace(raw))
	if err != nil || c.KeyringTimeout <= 0 {
		return nil, &Error{Err: fmt.Errorf("%s: invalid keyring timeout %q: use a duration such as 5s", c.source(o, KeyKeyringTimeout), raw)}
	}
	return c, nil
}

// Error is a setting with an invalid value (a flag, a MOVITERA_*
// variable or the config file): a usage error, exit 2.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is 2: the value must be fixed by the person running the command.
func (e *Error) ExitCode() int { return 2 }

// source names where a setting's value came from, as the person set it:
// --flag, MOVITERA_KEY, or the config file's key.
func (c *Config) source(o Options, key string) string {
	if o.Flags != nil {
		if f := o.Flags.Lookup(strings.ReplaceAll(key, "_", "-")); f != nil && f.Changed {
			return "--" + f.Name
		}
	}
	env := "MOVITERA_" + strings.ToUpper(key)
	if _, ok := os.LookupEnv(env); ok {
		return env
	}
	return fmt.Sprintf("%s in config file %s", key, c.File)
}

// readFile loads the config file into v and keeps its own settings for
// save. Permissions looser than 0600 are tightened, with a warning.
func (c *Config) readFile(v *viper.Viper, named bool) error {
	info, err := os.Stat(c.File)
	if errors.Is(err, fs.ErrNotExist) {
		if named {
			return fmt.Errorf("config file %s does not exist: create it or drop --config", c.File)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read config file %s: %v", c.File, err)
	}
	if info.IsDir() {
		return fmt.Errorf("config file %s is a directory", c.File)
	}
	// A symbolic link is read, never tightened: a chmod would change its
	// target, wherever that is.
	if lst, err := os.Lstat(c.File); err == nil && lst.Mode().IsRegular() && lst.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(c.File, 0o600); err == nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("config file %s was readable by others (mode %#o); it is now 0600", c.File, lst.Mode().Perm()))
		}
	}
	data, err := os.ReadFile(c.File)
	if err != nil {
		return fmt.Errorf("cannot read config file %s: %v", c.File, err)
	}
	if err := yaml.Unmarshal(data, &c.file); err != nil {
		return fmt.Errorf("config file %s does not parse: %v; fix it or remove it", c.File, firstLine(err))
	}
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("config file %s does not parse: %v; fix it or remove it", c.File, firstLine(err))
	}
	var keys map[string]any
	if yaml.Unmarshal(data, &keys) == nil {
		var unknown []string
		for k := range keys {
			if !slices.Contains(fileKeys, k) && k != KeyToken && k != KeyOTP {
				unknown = append(unknown, fmt.Sprintf("%q", k))
			}
		}
		slices.Sort(unknown)
		if len(unknown) > 0 {
			what := "key"
			if len(unknown) > 1 {
				what = "keys"
			}
			c.Warnings = append(c.Warnings, fmt.Sprintf("config file %s: unknown %s %s ignored; the known keys are %s", c.File, what, strings.Join(unknown, ", "), strings.Join(fileKeys, ", ")))
		}
	}
	return nil
}

// fileKeys are the settings a config file may hold.
var fileKeys = []string{KeyServer, KeyTeam, KeyKeyringTimeout, KeyDebug}

// firstLine is the first line of a YAML error that says something: "yaml:
// unmarshal errors:" is followed by the line that names the problem.
func firstLine(err error) string {
	lines := strings.Split(err.Error(), "\n")
	s := strings.TrimSpace(lines[0])
	if strings.HasSuffix(s, ":") && len(lines) > 1 {
		s += " " + strings.TrimSpace(lines[1])
	}
	return s
}

// NormalizeServer checks a server URL and drops a trailing slash. A URL
// with a user name or password is refused, and never quoted back.
func NormalizeServer(s string) (string, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	u, err := url.Parse(s)
	if hasUserinfo(s, u) {
		return "", errors.New("the server URL must not contain a user name or password: use http(s)://host[:port] and sign in with 'movitera login'")
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("invalid server URL %q: use http(s)://host[:port]", s)
	}
	return s, nil
}

// hasUserinfo reports whether a URL carries "user[:password]@", also when
// it does not parse.
func hasUserinfo(s string, u *url.URL) bool {
	if u != nil && u.User != nil {
		return true
	}
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		rest = strings.TrimPrefix(s, "//")
	}
	authority, _, _ := strings.Cut(rest, "/")
	return strings.Contains(authority, "@")
}

// SetTeam records the current team in the config file.
func (c *Config) SetTeam(slug string) error {
	c.file.Team = slug
	c.Team = slug
	return c.save()
}

// SetLogin records, in one atomic write, the server logged in to and the
// team that became current. Other settings in the file are kept.
func (c *Config) SetLogin(server, team string) error {
	server, err := NormalizeServer(server)
	if err != nil {
		return err
	}
	c.file.Server, c.file.Team = server, team
	if err := c.save(); err != nil {
		return err
	}
	c.Server, c.Team = server, team
	return nil
}

// save writes the file atomically (temp file, fsync, rename), 0600 in a
// 0700 directory, so that a crash never leaves it half-written.
func (c *Config) save() error {
	data, err := yaml.Marshal(c.file)
	if err != nil {
		return err
	}
	return WriteFileAtomic(c.File, data)
}

// WriteFileAtomic writes data to path with mode 0600, creating its directory
// with mode 0700, through a temporary file renamed into place.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %v", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %v", dir, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	return nil
}
