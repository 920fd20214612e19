package cmd_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// stopServer starts movitera server on a free port with args, its log at
// warn (so without the request lines), and returns it with its URL, its
// host:port and the first lines it prints.
func stopServer(t *testing.T, args ...string) (srv *serverProc, base, hostPort, head string) {
	t.Helper()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(dir, "home")}
	srv = startServer(t, env, append([]string{"--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}, args...)...)
	base, _ = srv.waitLine("movitera server listening on ")
	m := regexp.MustCompile(`^https?://(127\.0\.0\.1:[1-9][0-9]*)$`).FindStringSubmatch(base)
	if m == nil {
		out, _, _ := srv.stop(os.Kill)
		t.Fatalf("listening on %q; want http(s)://127.0.0.1:PORT\n%s", base, out)
	}
	head = "movitera server: data in " + dataDir + "\nmovitera server listening on " + base + "\n"
	return srv, base, m[1], head
}

// stuckRequest opens a connection to hostPort and sends a request whose
// body never comes in full. It returns once the handler is reading the
// body: the server has answered "100 Continue".
func stuckRequest(t *testing.T, hostPort string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", hostPort)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(procWait))
	_, err = conn.Write([]byte("POST /oauth/device/code HTTP/1.1\r\nHost: " + hostPort + "\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for _, want := range []string{"HTTP/1.1 100 Continue\r\n", "\r\n"} {
		if line, err := br.ReadString('\n'); err != nil || line != want {
			t.Fatalf("answer to Expect: 100-continue: %q, %v; want %q", line, err, want)
		}
	}
	if _, err := conn.Write([]byte("client_id=movitera")); err != nil {
		t.Fatal(err)
	}
	return conn
}

// closedWithoutAnswer checks that conn, once the server has stopped, ends
// with nothing more read from it.
func closedWithoutAnswer(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(procWait))
	b, err := io.ReadAll(conn)
	var ne net.Error
	if len(b) > 0 || errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("after the stop, the connection gave %q, %v; want its end", b, err)
	}
}

// SIGTERM with a request stuck in its body: the server waits out the grace
// period, then closes that connection and stops cleanly (exit 0), saying
// so.
func TestServerStopClosesStuckConnection(t *testing.T) {
	srv, _, hostPort, head := stopServer(t, "--shutdown-grace", "1s")
	conn := stuckRequest(t, hostPort)
	out, exit, err := srv.stop(syscall.SIGTERM)
	want := head + `movitera server: stopping; waiting up to 1s for 1 request in progress (interrupt again to stop now)
movitera server: closed 1 connection that was still open
movitera server stopped
`
	if err != nil || exit != 0 || out != want {
		t.Fatalf("exit %d, %v; stderr:\n%s\nwant exit 0 and:\n%s", exit, err, out, want)
	}
	closedWithoutAnswer(t, conn)
}

// A second signal during the grace period stops at once: with a grace
// period of 50 s, the server exits well within procWait of it.
func TestServerStopTwice(t *testing.T) {
	srv, _, hostPort, head := stopServer(t, "--shutdown-grace", "50s")
	conn1, conn2 := stuckRequest(t, hostPort), stuckRequest(t, hostPort)
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if _, ok := srv.waitLine("movitera server: stopping; "); !ok {
		out, _, _ := srv.stop(os.Kill)
		t.Fatalf("no stopping line after SIGTERM:\n%s", out)
	}
	out, exit, err := srv.stop(os.Interrupt)
	want := head + `movitera server: stopping; waiting up to 50s for 2 requests in progress (interrupt again to stop now)
movitera server: closed 2 connections that were still open
movitera server stopped
`
	if err != nil || exit != 0 || out != want {
		t.Fatalf("exit %d, %v; stderr:\n%s\nwant exit 0 and:\n%s", exit, err, out, want)
	}
	closedWithoutAnswer(t, conn1)
	closedWithoutAnswer(t, conn2)
}

// A connection that has sent nothing does not hold the stop up (net/http
// alone waits 5 s for it): the server closes it and exits at once, with
// no line about it — over TLS, not even the failed handshake's warning.
func TestServerStopSilentConnection(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, "vault")
	for _, c := range []struct {
		name   string
		args   []string
		client *http.Client
	}{
		{"http", nil, &http.Client{}},
		{"https", []string{"--tls-cert", certFile, "--tls-key", keyFile}, httpsClient(t, certFile)},
	} {
		srv, base, hostPort, head := stopServer(t, c.args...)
		silent, err := net.Dial("tcp", hostPort)
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		// The server accepts in order: once a later connection is
		// answered, the silent one has been accepted.
		req, _ := http.NewRequest("GET", base+"/api/v1/user", nil)
		req.Close = true
		c.client.Timeout = procWait
		resp, err := c.client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("%s: GET /api/v1/user: %d; want 401", c.name, resp.StatusCode)
		}
		start := time.Now()
		out, exit, err := srv.stop(syscall.SIGTERM)
		took := time.Since(start)
		want := head + "movitera server stopped\n"
		if err != nil || exit != 0 || out != want {
			t.Fatalf("%s: exit %d, %v; stderr:\n%s\nwant exit 0 and:\n%s", c.name, exit, err, out, want)
		}
		// A generous bound: without closing it, the stop takes 5 s.
		if took > 3*time.Second {
			t.Errorf("%s: the server took %v to stop with a silent connection open", c.name, took.Round(time.Millisecond))
		}
		closedWithoutAnswer(t, silent)
	}
}
