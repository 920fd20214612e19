package cmd_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/movitera/movitera/internal/server"
)

// writeCert writes a new self-signed certificate for 127.0.0.1 to
// dir/name.pem and its key to dir/name-key.pem.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "movitera test " + name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: pkcs8}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

// httpsClient trusts the certificate in caFile only and follows no
// redirect.
func httpsClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("no certificate in %s", caFile)
	}
	return &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// sessionCookie is the movitera_session cookie a response sets.
func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "movitera_session" {
			return c
		}
	}
	t.Fatalf("%s %s set no session cookie: %v", resp.Request.Method, resp.Request.URL.Path, resp.Header["Set-Cookie"])
	return nil
}

// wantSecureCookie checks the attributes of a session cookie served over
// TLS.
func wantSecureCookie(t *testing.T, what string, c *http.Cookie) {
	t.Helper()
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Value == "" {
		t.Errorf("%s: cookie %q; want Secure, HttpOnly, SameSite=Lax, Path=/", what, c.String())
	}
}

// movitera server --tls-cert --tls-key serves HTTPS. The real binary runs
// with a certificate made here for 127.0.0.1: a client that trusts it is
// served (and the sign-in page's session cookie is Secure), one that trusts
// another CA fails the handshake, and movitera status trusts it through
// SSL_CERT_FILE, and only then.
func TestServerTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, "vault")
	otherCA, _ := writeCert(t, dir, "other")
	emptyDir := filepath.Join(dir, "no-certs")
	if err := os.Mkdir(emptyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	env := []string{
		"PATH=" + os.Getenv("PATH"), // holds movitera: see TestMain
		"HOME=" + filepath.Join(dir, "home"),
		"MOVITERA_CONFIG_DIR=" + filepath.Join(dir, "config"),
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(dir, "no-bus"),
		"SSL_CERT_DIR=" + emptyDir, // the host's CA directories are not read
		"TZ=UTC",
	}

	// The server, until the line that says where it listens.
	srv := startServer(t, env, "--dev", "--addr", "127.0.0.1:0", "--data-dir", dataDir,
		"--tls-cert", certFile, "--tls-key", keyFile)
	base, _ := srv.waitLine("movitera server listening on ")
	if !regexp.MustCompile(`^https://127\.0\.0\.1:[1-9][0-9]*$`).MatchString(base) {
		out, _, _ := srv.stop(os.Kill)
		t.Fatalf("listening on %q; want https://127.0.0.1:PORT\n%s", base, out)
	}
	var dev server.DevCredentials
	if b, err := os.ReadFile(filepath.Join(dataDir, "dev-credentials.json")); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &dev); err != nil {
		t.Fatal(err)
	}

	trusting := httpsClient(t, certFile)

	// An authenticated API call.
	req, _ := http.NewRequest("GET", base+"/api/v1/user", nil)
	req.Header.Set("Authorization", "Bearer "+dev.Token)
	resp, err := trusting.Do(req)
	if err != nil {
		t.Fatalf("GET /api/v1/user: %v", err)
	}
	var user struct {
		User struct{ Email string }
	}
	err = json.NewDecoder(resp.Body).Decode(&user)
	resp.Body.Close()
	if resp.StatusCode != 200 || err != nil || user.User.Email != server.DevEmail {
		t.Fatalf("GET /api/v1/user: %d, %q, %v; want 200 for %s", resp.StatusCode, user.User.Email, err, server.DevEmail)
	}

	// The sign-in page: its anonymous session cookie, then the signed-in
	// one, are Secure.
	resp, err = trusting.Get(base + "/device")
	if err != nil {
		t.Fatalf("GET /device: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /device: %d", resp.StatusCode)
	}
	anon := sessionCookie(t, resp)
	wantSecureCookie(t, "sign-in page", anon)
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%s", page)
	}
	code, err := server.TOTPCode(dev.TOTPSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"email": {dev.Email}, "password": {dev.Password}, "otp": {code}, "csrf_token": {string(csrf[1])}}
	req, _ = http.NewRequest("POST", base+"/device/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(anon)
	resp, err = trusting.Do(req)
	if err != nil {
		t.Fatalf("POST /device/login: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/device" {
		t.Fatalf("sign-in: %d to %q; want 303 to /device", resp.StatusCode, resp.Header.Get("Location"))
	}
	signedIn := sessionCookie(t, resp)
	wantSecureCookie(t, "signed in", signedIn)
	if signedIn.Value == anon.Value {
		t.Error("the session was not renewed at sign-in")
	}

	// A client that trusts another CA fails the handshake.
	_, err = httpsClient(t, otherCA).Get(base + "/api/v1/user")
	var unknownCA x509.UnknownAuthorityError
	if !errors.As(err, &unknownCA) {
		t.Errorf("client trusting another CA: %v; want x509.UnknownAuthorityError", err)
	}

	// movitera status, with SSL_CERT_FILE pointing at the certificate, and
	// then at another CA.
	status := func(caFile string) (stdout, stderr string, exit int) {
		var out, errOut bytes.Buffer
		c := exec.Command("movitera", "status")
		c.Env = append(env, "MOVITERA_SERVER="+base, "MOVITERA_TOKEN="+dev.Token, "SSL_CERT_FILE="+caFile)
		c.Stdout, c.Stderr = &out, &errOut
		err := c.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), c.ProcessState.ExitCode()
	}
	stdout, stderr, exit := status(certFile)
	wantOut := `^Server: +` + regexp.QuoteMeta(base) + `
User: +Dev User <dev@movitera\.local>
Team: +acme \(manager\)
Token: +.+ \(.+, mv._[0-9A-Za-z]{8}\)
Expires: +.+
Stored in: +the environment \(MOVITERA_TOKEN\)
$`
	if exit != 0 || stderr != "" || !regexp.MustCompile(wantOut).MatchString(stdout) {
		t.Errorf("status trusting the certificate: exit %d\nstdout:\n%s\nstderr:\n%s", exit, stdout, stderr)
	}
	stdout, stderr, exit = status(otherCA)
	wantErr := `^error: cannot reach the vault at ` + regexp.QuoteMeta(base) + `: its certificate is signed by an authority this machine does not trust; if the vault uses a private CA, set SSL_CERT_FILE to that CA's certificate
$`
	if exit != 1 || stdout != "" || !regexp.MustCompile(wantErr).MatchString(stderr) {
		t.Errorf("status trusting another CA: exit %d\nstdout:\n%s\nstderr:\n%s", exit, stdout, stderr)
	}

	// Stopped by Ctrl-C: exit 0. The log has the requests, and a warning
	// for each refused handshake — the Go client's and the CLI's, which
	// does not retry a certificate it cannot trust — nothing else.
	out, exit, err := srv.stop(os.Interrupt)
	if err != nil || exit != 0 {
		t.Fatalf("server: exit %d, %v\n%s", exit, err, out)
	}
	for want, n := range map[string]int{
		"path=/api/v1/user status=200":                2, // this test's call and the CLI's
		"path=/device/login status=303":               1,
		"movitera server listening on " + base + "\n": 1,
		"movitera server stopped\n":                   1,
	} {
		if got := strings.Count(out, want); got != n {
			t.Errorf("server stderr has %q %d times; want %d\n%s", want, got, n, out)
		}
	}
	refused := regexp.MustCompile(`(?m)^time=\S+ level=WARN msg="http: TLS handshake error from 127\.0\.0\.1:\d+: remote error: tls: bad certificate"$`)
	if warns, handshakes := strings.Count(out, "level=WARN"), len(refused.FindAllString(out, -1)); handshakes != 2 || warns != handshakes {
		t.Errorf("server stderr has %d warnings, %d of them refused handshakes; want 2, both refused handshakes\n%s", warns, handshakes, out)
	}
}

// A certificate and key that cannot be used are a usage error (exit 2)
// before anything starts: nothing but the error is printed, and the data
// directory (so dev-credentials.json) is not made. The message names the
// flags and the cause, never the files' contents.
func TestServerTLSFlagErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, "vault")
	_, otherKey := writeCert(t, dir, "other")
	missing := filepath.Join(dir, "nope.pem")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(dir, "home")}
	const usage = "Run 'movitera --help' or add --help to the command for usage.\n"
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no certificate file", []string{"--tls-cert", missing, "--tls-key", keyFile},
			fmt.Sprintf("error: cannot read --tls-cert %q: no such file or directory\n", missing)},
		{"no key file", []string{"--tls-cert", certFile, "--tls-key", missing},
			fmt.Sprintf("error: cannot read --tls-key %q: no such file or directory\n", missing)},
		{"an endless file", []string{"--tls-cert", "/dev/zero", "--tls-key", keyFile},
			"error: --tls-cert \"/dev/zero\" is over 1 MiB: give a PEM file\n"},
		{"a directory", []string{"--tls-cert", certFile, "--tls-key", dir},
			fmt.Sprintf("error: cannot read --tls-key %q: is a directory\n", dir)},
		{"another certificate's key", []string{"--tls-cert", certFile, "--tls-key", otherKey},
			fmt.Sprintf("error: --tls-cert %q and --tls-key %q are not a certificate and its private key: private key does not match public key\n", certFile, otherKey)},
		{"swapped", []string{"--tls-cert", keyFile, "--tls-key", certFile},
			fmt.Sprintf("error: --tls-cert %q and --tls-key %q are not a certificate and its private key: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched\n", keyFile, certFile)},
		{"a certificate as the key", []string{"--tls-cert", certFile, "--tls-key", certFile},
			fmt.Sprintf("error: --tls-cert %q and --tls-key %q are not a certificate and its private key: found a certificate rather than a key in the PEM for the private key\n", certFile, certFile)},
		{"no key", []string{"--tls-cert", certFile},
			"error: --tls-cert and --tls-key go together: give both, or neither\n"},
		{"no certificate", []string{"--addr", "0.0.0.0:8443", "--tls-key", keyFile},
			"error: --tls-cert and --tls-key go together: give both, or neither\n"},
	} {
		dataDir := filepath.Join(t.TempDir(), "data")
		args := append([]string{"server", "--dev", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, c.args...)
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), procWait)
		cmd := exec.CommandContext(ctx, "movitera", args...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
		err := cmd.Run()
		cancel()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%s: %v", c.name, err)
		}
		if exit := cmd.ProcessState.ExitCode(); exit != 2 || stdout.String() != "" || stderr.String() != c.want+usage {
			t.Errorf("%s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 2 and stderr:\n%s", c.name, exit, &stdout, &stderr, c.want+usage)
		}
		if _, err := os.Stat(dataDir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: the data directory was made (%v)", c.name, err)
		}
		for _, secret := range []string{"PRIVATE KEY", "CERTIFICATE", "BEGIN"} {
			if strings.Contains(stderr.String(), secret) {
				t.Errorf("%s: stderr quotes the files: %s", c.name, &stderr)
			}
		}
	}
}
