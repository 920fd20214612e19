package prompt

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/movitera/movitera/internal/cmdutil"
	"github.com/movitera/movitera/internal/iostreams"
)

func TestConfirm(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, " yes \n": true, "\n": false, "n\n": false, "yep\n": false, "": false, "y": true} {
		ios, stdin, stdout, stderr := iostreams.Test()
		stdin.WriteString(in)
		got, err := Confirm(context.Background(), ios, "Revoke 2 tokens?")
		if err != nil || got != want {
			t.Errorf("answer %q: got %v, %v; want %v", in, got, err, want)
		}
		if stderr.String() != "Revoke 2 tokens? [y/N] " || stdout.Len() != 0 {
			t.Errorf("prompt on stderr only: stderr %q, stdout %q", stderr.String(), stdout.String())
		}
	}
}

func TestHidden(t *testing.T) {
	ios, stdin, stdout, stderr := iostreams.Test()
	stdin.WriteString(" 123456 \n")
	got, err := Hidden(context.Background(), ios, "Code: ")
	if err != nil || got != "123456" {
		t.Fatalf("got %q, %v", got, err)
	}
	if stderr.String() != "Code: \n" || stdout.Len() != 0 {
		t.Fatalf("stderr %q stdout %q", stderr.String(), stdout.String())
	}
}

func TestCancelled(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	pr, pw := io.Pipe()
	defer pw.Close()
	ios.In = pr
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Confirm(ctx, ios, "Sure?"); !errors.Is(err, cmdutil.ErrCancel) {
		t.Fatalf("got %v", err)
	}
	if _, err := Hidden(ctx, ios, "Code: "); !errors.Is(err, cmdutil.ErrCancel) {
		t.Fatalf("got %v", err)
	}
}

func TestOneLinePerQuestion(t *testing.T) {
	ios, stdin, _, _ := iostreams.Test()
	stdin.WriteString("111111\n222222\ny\n")
	a, _ := Hidden(context.Background(), ios, "Code: ")
	b, _ := Hidden(context.Background(), ios, "Code: ")
	ok, _ := Confirm(context.Background(), ios, "Sure?")
	if a != "111111" || b != "222222" || !ok {
		t.Fatalf("got %q %q %v", a, b, ok)
	}
}
