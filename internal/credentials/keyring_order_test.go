package credentials

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// heldBackend is a keyring in memory that logs the calls in the order
// they reach it. The write of one password is held until release is
// closed: a keyring that answers it late. Create it inside the synctest
// bubble, so that waiting on release is durably blocking.
type heldBackend struct {
	hold    string
	release chan struct{}
	once    sync.Once

	mu  sync.Mutex
	m   map[string]string
	log []string
}

func newHeldBackend(hold string) *heldBackend {
	return &heldBackend{hold: hold, release: make(chan struct{}), m: map[string]string{}}
}

// unhold lets the held write through; deferred, it also ends a failed
// test's abandoned call, which synctest would report as a deadlock.
func (b *heldBackend) unhold() { b.once.Do(func() { close(b.release) }) }

func (b *heldBackend) Get(s, u string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = append(b.log, "get")
	v, ok := b.m[s+"\x00"+u]
	if !ok {
		return "", errNotFoundGoKeyring
	}
	return v, nil
}

func (b *heldBackend) Set(s, u, p string) error {
	if p == b.hold {
		<-b.release
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = append(b.log, "set "+p)
	b.m[s+"\x00"+u] = p
	return nil
}

func (b *heldBackend) Delete(s, u string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = append(b.log, "delete")
	if _, ok := b.m[s+"\x00"+u]; !ok {
		return errNotFoundGoKeyring
	}
	delete(b.m, s+"\x00"+u)
	return nil
}

func (b *heldBackend) calls() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprint(b.log)
}

// A write that timed out and lands late comes before the undo that
// follows it: the undo waits for the abandoned write to return, then puts
// the previous token back, and that is what the keyring keeps. (Time is
// synctest's fake clock: nothing here depends on how fast the machine is.)
func TestKeyringUndoWaitsForAbandonedWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		b := newHeldBackend("mvc_new")
		defer b.unhold()
		k := &Keyring{Timeout: 5 * time.Second, Backend: b}
		must(t, k.Set(ctx, "http://h", "acme", "mvc_prev"))

		if err := k.Set(ctx, "http://h", "acme", "mvc_new"); !errors.Is(err, ErrTimeout) {
			t.Fatalf("the held write: %v, want ErrTimeout", err)
		}
		undone := make(chan error, 1)
		go func() { undone <- k.Set(ctx, "http://h", "acme", "mvc_prev") }()
		synctest.Wait() // the undo has gone as far as it can while the write is held
		b.unhold()
		if err := <-undone; err != nil {
			t.Fatalf("the undo: %v", err)
		}
		synctest.Wait() // every call has returned

		if got, want := b.calls(), "[set mvc_prev get set mvc_new set mvc_prev get]"; got != want {
			t.Fatalf("calls reached the keyring as %s, want %s", got, want)
		}
		expect(t, k, "http://h", "acme", "mvc_prev")
	})
}

// A call that waits for an earlier one that does not return gives up
// after its own timeout with ErrTimeout, or when its context ends, and is
// then never made: not even once the earlier call returns.
func TestKeyringWaitForEarlierCallIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		b := newHeldBackend("mvc_new")
		defer b.unhold()
		k := &Keyring{Timeout: 5 * time.Second, Backend: b}
		if err := k.Set(ctx, "http://h", "acme", "mvc_new"); !errors.Is(err, ErrTimeout) {
			t.Fatalf("the held write: %v, want ErrTimeout", err)
		}

		start := time.Now()
		err := k.Delete(ctx, "http://h", "acme")
		want := "cannot use the system keyring (no answer within 5s; a longer wait can be set with MOVITERA_KEYRING_TIMEOUT): log in with --insecure-storage to keep the token in a 0600 file, or set MOVITERA_TOKEN"
		if !errors.Is(err, ErrTimeout) || err.Error() != want {
			t.Fatalf("Delete behind the held write: %v\nwant %s", err, want)
		}
		if waited := time.Since(start); waited != 5*time.Second { // the fake clock
			t.Fatalf("waited %s, want the timeout, 5s", waited)
		}
		cancelled, cancel := context.WithCancel(ctx)
		got := make(chan error, 1)
		go func() { _, err := k.Get(cancelled, "http://h", "acme"); got <- err }()
		synctest.Wait()
		cancel()
		if err := <-got; !errors.Is(err, context.Canceled) {
			t.Fatalf("Get behind the held write, cancelled: %v", err)
		}

		b.unhold()
		synctest.Wait()
		if got, want := b.calls(), "[set mvc_new]"; got != want {
			t.Fatalf("calls reached the keyring as %s, want %s", got, want)
		}
		// The keyring is free again.
		must(t, k.Delete(ctx, "http://h", "acme"))
		if got, want := b.calls(), "[set mvc_new delete]"; got != want {
			t.Fatalf("calls reached the keyring as %s, want %s", got, want)
		}
	})
}
