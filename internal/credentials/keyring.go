package credentials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// ServicePrefix names the keyring entries: service "movitera:<server>",
// user "<team>".
const ServicePrefix = "movitera:"

// Backend is what the keyring store drives: go-keyring's functions, or a
// fake in tests.
type Backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// GoKeyring is the system keyring through go-keyring (Secret Service on
// Linux, Keychain on macOS, Credential Manager on Windows). In tests,
// go-keyring's MockInit swaps it for memory.
type GoKeyring struct{}

// Get implements Backend.
func (GoKeyring) Get(service, user string) (string, error) { return gokeyring.Get(service, user) }

// Set implements Backend.
func (GoKeyring) Set(service, user, password string) error {
	return gokeyring.Set(service, user, password)
}

// Delete implements Backend.
func (GoKeyring) Delete(service, user string) error { return gokeyring.Delete(service, user) }

// Keyring is the Store in the system keyring. Every call is raced against
// Timeout: a keyring that never answers fails the command instead of
// hanging it. Calls go to the Backend one at a time, in the order they are
// made, also those abandoned after a timeout (see call).
type Keyring struct {
	Timeout time.Duration
	Backend Backend
	// Check runs before every call; it fails fast where the keyring
	// cannot work (no D-Bus session). Nil skips it.
	Check func() error

	once sync.Once
	turn chan struct{} // holds a token while a Backend call runs
}

// NewKeyring returns the system keyring store, with the D-Bus session check
// on the platforms that use the Secret Service.
func NewKeyring(timeout time.Duration) *Keyring {
	return &Keyring{Timeout: timeout, Backend: GoKeyring{}, Check: SessionBusCheck(runtime.GOOS, os.Getenv, fileExists)}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// SessionBusCheck returns the check that a D-Bus session bus is there to
// talk to, on the systems where go-keyring uses the Secret Service. Without
// one, the D-Bus library would try to autolaunch a bus (and a keyring
// daemon) that outlive the command; the check fails clearly instead.
func SessionBusCheck(goos string, getenv func(string) string, exists func(string) bool) func() error {
	return func() error {
		switch goos {
		case "darwin", "windows", "ios", "android", "plan9", "js", "wasip1":
			return nil
		}
		if addr := getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
			return nil
		}
		// The D-Bus library looks there too, before it autolaunches.
		if exists("/run/user/" + strconv.Itoa(os.Getuid()) + "/bus") {
			return nil
		}
		return &UnavailableError{Cause: "no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set, as over SSH or in a container"}
	}
}

// Service is the keyring service name of a server's tokens.
func Service(server string) string { return ServicePrefix + server }

// Get implements Store.
func (k *Keyring) Get(ctx context.Context, server, team string) (string, error) {
	return k.call(ctx, func() (string, error) { return k.Backend.Get(Service(server), team) })
}

// Set implements Store. It reads the token back: a keyring that accepts a
// write and keeps nothing is an error, not a silent loss.
func (k *Keyring) Set(ctx context.Context, server, team, token string) error {
	if err := checkKey(server, team, token); err != nil {
		return err
	}
	if _, err := k.call(ctx, func() (string, error) { return "", k.Backend.Set(Service(server), team, token) }); err != nil {
		return err
	}
	got, err := k.Get(ctx, server, team)
	if errors.Is(err, ErrNotFound) || (err == nil && got != token) {
		return &UnavailableError{Cause: "it accepted the token but gave back something else when read"}
	}
	return err
}

// Delete implements Store.
func (k *Keyring) Delete(ctx context.Context, server, team string) error {
	_, err := k.call(ctx, func() (string, error) { return "", k.Backend.Delete(Service(server), team) })
	return err
}

// DeleteIf implements Store as far as a keyring can: it reads, compares,
// then deletes. The Secret Service (like Keychain and the Credential
// Manager) has no compare-and-delete, so a token another process writes
// between the read and the delete, one keyring round trip, is removed too.
func (k *Keyring) DeleteIf(ctx context.Context, server, team, token string) error {
	got, err := k.Get(ctx, server, team)
	if err != nil {
		return err
	}
	if got != token {
		return ErrNotFound
	}
	return k.Delete(ctx, server, team)
}

// Name implements Store.
func (k *Keyring) Name() string { return NameKeyring }

// Location implements Store.
func (k *Keyring) Location() string { return "the system keyring" }

// call runs fn against the timeout and the context, and maps its errors.
// Backend calls are serialised: fn runs only once every earlier call has
// returned, even one whose caller gave up on it, so that a write abandoned
// after a timeout lands before whatever is asked next (an undo). Waiting
// for that turn counts against the timeout; a call that times out or is
// cancelled before its turn never runs. A call that times out during fn is
// abandoned, not cancelled: its goroutine keeps the turn until the keyring
// answers, or the process ends.
func (k *Keyring) call(ctx context.Context, fn func() (string, error)) (string, error) {
	if k.Check != nil {
		if err := k.Check(); err != nil {
			return "", err
		}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	timedOut := &UnavailableError{Cause: fmt.Sprintf("no answer within %s; a longer wait can be set with MOVITERA_KEYRING_TIMEOUT", timeout), Err: ErrTimeout}

	k.once.Do(func() { k.turn = make(chan struct{}, 1) })
	select {
	case k.turn <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-timer.C:
		return "", timedOut // an earlier call still has the keyring
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned call still ends
	go func() {
		v, err := fn()
		<-k.turn
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, mapKeyringError(r.err)
	case <-ctx.Done():
		return "", ctx.Err()
	case <-timer.C:
		return "", timedOut
	}
}

func mapKeyringError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gokeyring.ErrNotFound):
		return ErrNotFound
	}
	cause, _, _ := strings.Cut(err.Error(), "\n")
	return &UnavailableError{Cause: cause, Err: err}
}
