package cmd_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// procWait bounds every wait on a server process: a server that never
// listens or never stops fails the test instead of hanging it.
const procWait = 30 * time.Second

// serverProc is `movitera server` run from the test binary (TestMain puts
// movitera on PATH), with its stderr read line by line until it exits.
type serverProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	mu      sync.Mutex
	stderr  bytes.Buffer
	changed chan struct{} // a line was read
	drained chan struct{} // stderr is at its end: the server exited
	waited  bool
}

// startServer runs movitera server with args and env. The cleanup kills a
// server the test has not stopped.
func startServer(t *testing.T, env []string, args ...string) *serverProc {
	t.Helper()
	p := &serverProc{t: t, changed: make(chan struct{}, 1), drained: make(chan struct{})}
	p.cmd = exec.Command("movitera", append([]string{"server"}, args...)...)
	p.cmd.Env = env
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.drained)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.changed <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		if !p.waited {
			p.stop(os.Kill)
		}
	})
	return p
}

// output is the server's stderr so far.
func (p *serverProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// waitLine waits for a line of stderr that starts with prefix and returns
// the rest of it; ok is false when the server exited or procWait passed
// first.
func (p *serverProc) waitLine(prefix string) (rest string, ok bool) {
	timeout := time.After(procWait)
	for {
		for _, line := range strings.Split(p.output(), "\n") {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return rest, true
			}
		}
		select {
		case <-p.changed:
		case <-p.drained:
			// The last lines may have come with the end.
			for _, line := range strings.Split(p.output(), "\n") {
				if rest, ok := strings.CutPrefix(line, prefix); ok {
					return rest, true
				}
			}
			return "", false
		case <-timeout:
			return "", false
		}
	}
}

// stop sends sig and waits, for at most procWait, until the server exits.
// It returns its stderr and exit code (-1 when killed or not stopped in
// time: err says which).
func (p *serverProc) stop(sig os.Signal) (stderr string, exit int, err error) {
	p.cmd.Process.Signal(sig)
	return p.wait()
}

// wait waits, for at most procWait, until the server exits; see stop.
func (p *serverProc) wait() (stderr string, exit int, err error) {
	p.waited = true
	select {
	case <-p.drained:
	case <-time.After(procWait):
		p.cmd.Process.Kill()
		<-p.drained
		p.cmd.Wait()
		return p.output(), -1, errors.New("the server did not exit within " + procWait.String())
	}
	err = p.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return p.output(), -1, err
	}
	return p.output(), p.cmd.ProcessState.ExitCode(), nil
}
