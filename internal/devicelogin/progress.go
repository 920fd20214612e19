package devicelogin

import (
	"fmt"
	"sync"
	"time"

	"github.com/movitera/movitera/internal/iostreams"
)

// progress shows the wait: a live spinner with the time left on a
// terminal, a plain line in a pipe.
type progress struct {
	ios    *iostreams.IOStreams
	expiry time.Time
	now    func() time.Time
	tty    bool

	mu   sync.Mutex
	done chan struct{}
	wg   sync.WaitGroup
}

var frames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func startProgress(ios *iostreams.IOStreams, expiry time.Time, now func() time.Time) *progress {
	p := &progress{ios: ios, expiry: expiry, now: now, tty: ios.IsStderrTTY(), done: make(chan struct{})}
	if !p.tty {
		fmt.Fprintf(ios.ErrOut, "Waiting for the approval in the browser (the code expires in %s)...\n", left(expiry.Sub(now())))
		return p
	}
	p.wg.Add(1)
	go p.spin()
	return p
}

func (p *progress) spin() {
	defer p.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		p.mu.Lock()
		fmt.Fprintf(p.ios.ErrOut, "\r\x1b[K%s Waiting for the approval in the browser... %s left", frames[i%len(frames)], clock(p.expiry.Sub(p.now())))
		p.mu.Unlock()
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

// warn prints a line without tearing the spinner.
func (p *progress) warn(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.ios.ErrOut, "\r\x1b[K")
	}
	fmt.Fprintf(p.ios.ErrOut, "warning: %s\n", msg)
}

func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	if p.tty {
		fmt.Fprint(p.ios.ErrOut, "\r\x1b[K")
	}
}

// clock renders a duration as m:ss.
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// left renders a duration for a sentence: "15 minutes", "45 seconds".
func left(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= 2*time.Minute:
		return fmt.Sprintf("%d minutes", int((d+30*time.Second)/time.Minute))
	case d >= time.Minute:
		return "1 minute"
	case d == time.Second:
		return "1 second"
	case d < 0:
		return "0 seconds"
	}
	return fmt.Sprintf("%d seconds", int(d/time.Second))
}
