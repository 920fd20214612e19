//go:build linux

// Command bench measures movitera as whole processes, side by side with
// yardsticks in the same run, and writes docs/performance.md: start-up
// against a hello-world Go binary and gh, a token list against curl, lists
// of 10,000 tokens, the server under wrk against a bare net/http handler,
// and the time from approving a device login to the token being stored.
//
// It runs from the repository root (make bench, or bash
// internal/bench/run.sh): it builds the binaries, starts throw-away servers
// on 127.0.0.1, seeds their databases through the store, and sends no
// traffic anywhere else. It runs on Linux only (strace, GNU time, peak RSS
// from rusage). hyperfine, wrk, curl and gh come from Debian;
// run.sh installs the missing ones.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/movitera/movitera/internal/movitera"
	"github.com/movitera/movitera/internal/store"
)

type options struct {
	out          string
	goBench      string
	runs         int
	startupRuns  int
	wrkDuration  time.Duration
	wrkRounds    int
	logins       int
	pollInterval int
	keep         bool
}

// bench is one run: its work directory, binaries and results.
type bench struct {
	opt  options
	root string // repository root
	work string // temporary directory
	bin  struct{ movitera, hello, bare string }
	env  []string // a throw-away HOME and config directory

	started []*proc // every process this run started, stopped at the end
	r       results
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "docs/performance.md", "the report to write")
	flag.StringVar(&o.goBench, "go-bench", "", "output of 'go test -bench' to summarise in the report (empty: run them)")
	flag.IntVar(&o.runs, "runs", 30, "hyperfine runs per command")
	flag.IntVar(&o.startupRuns, "startup-runs", 300, "hyperfine runs per start-up command (a few ms each: many runs steady the median)")
	flag.DurationVar(&o.wrkDuration, "wrk-duration", 5*time.Second, "length of each wrk run")
	flag.IntVar(&o.wrkRounds, "wrk-rounds", 3, "alternating wrk rounds of the bare handler and the server")
	flag.IntVar(&o.logins, "logins", 3, "device logins to time")
	flag.IntVar(&o.pollInterval, "poll-interval", 2, "the server's device polling interval, in seconds")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("bench: ")

	b := &bench{opt: o}
	err := b.run()
	b.stopAll()
	if !o.keep && b.work != "" {
		os.RemoveAll(b.work)
	} else if b.work != "" {
		log.Printf("work directory kept: %s", b.work)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func (b *bench) run() error {
	var err error
	if b.root, err = os.Getwd(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(b.root, "go.mod")); err != nil {
		return errors.New("run from the repository root (make bench)")
	}
	if b.work, err = os.MkdirTemp("", "movitera-bench-"); err != nil {
		return err
	}
	home := filepath.Join(b.work, "home")
	cfg := filepath.Join(b.work, "config")
	for _, d := range []string{home, cfg} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	b.env = cleanEnv(home, cfg)
	b.r.start = time.Now()
	b.r.machine = describeMachine()

	steps := []struct {
		name string
		fn   func() error
	}{
		{"build", b.build},
		{"go benchmarks", b.goBenchmarks},
		{"start-up", b.startup},
		{"server throughput", b.server},
		{"round trip", b.roundTrip},
		{"10,000 tokens", b.scale},
		{"device login", b.deviceLogin},
	}
	for _, s := range steps {
		log.Printf("%s…", s.name)
		t := time.Now()
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		log.Printf("%s done in %s", s.name, time.Since(t).Round(time.Millisecond))
	}
	b.r.end = time.Now()
	b.r.loadAfter = loadAverage()
	report := b.r.markdown(b.opt)
	out := b.opt.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(b.root, out)
	}
	if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s", b.opt.out)
	fmt.Print(b.r.summary(b.opt))
	return nil
}

// cleanEnv is the environment of every measured command: the caller's,
// without anything of movitera's, with a throw-away HOME and config
// directory, and no proxy (all traffic is to 127.0.0.1).
func cleanEnv(home, cfg string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "MOVITERA_"), strings.HasPrefix(k, "XDG_"), k == "HOME",
			strings.EqualFold(k, "http_proxy"), strings.EqualFold(k, "https_proxy"),
			strings.EqualFold(k, "all_proxy"), k == "BROWSER", k == "NO_COLOR":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "MOVITERA_CONFIG_DIR="+cfg, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local/share"), "NO_PROXY=*", "GH_NO_UPDATE_NOTIFIER=1",
		"GH_CONFIG_DIR="+filepath.Join(home, "gh"), "TERM=xterm-256color")
}

// ---------------------------------------------------------------- build

func (b *bench) build() error {
	b.bin.movitera = filepath.Join(b.work, "movitera")
	b.bin.hello = filepath.Join(b.work, "hello")
	b.bin.bare = filepath.Join(b.work, "barehttp")
	ld := "-s -w -X github.com/movitera/movitera/cmd.version=bench"
	if err := b.goBuild(b.root, b.bin.movitera, ld, "."); err != nil {
		return err
	}
	if err := b.goBuild(b.root, b.bin.bare, "-s -w", "./internal/bench/barehttp"); err != nil {
		return err
	}
	// hello-world, built the same way, in its own module.
	hd := filepath.Join(b.work, "hello-src")
	if err := os.MkdirAll(hd, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"go.mod":  "module hello\n\ngo 1.22\n",
		"main.go": "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello, world\\n\") }\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(hd, n), []byte(c), 0o644); err != nil {
			return err
		}
	}
	if err := b.goBuild(hd, b.bin.hello, "-s -w", "."); err != nil {
		return err
	}
	for _, p := range []struct {
		path string
		dst  *int64
	}{{b.bin.movitera, &b.r.size}, {b.bin.hello, &b.r.helloSize}} {
		fi, err := os.Stat(p.path)
		if err != nil {
			return err
		}
		*p.dst = fi.Size()
	}
	return nil
}

func (b *bench) goBuild(dir, out, ldflags, pkg string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// ---------------------------------------------------------------- go test -bench

func (b *bench) goBenchmarks() error {
	var out []byte
	if b.opt.goBench != "" {
		var err error
		if out, err = os.ReadFile(b.opt.goBench); err != nil {
			return err
		}
	} else {
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "200ms", "./...")
		cmd.Dir = b.root
		cmd.Stderr = os.Stderr
		var err error
		if out, err = cmd.Output(); err != nil {
			return fmt.Errorf("go test -bench: %w", err)
		}
	}
	b.r.goBench = parseGoBench(string(out))
	return nil
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

func parseGoBench(out string) []goBenchResult {
	var res []goBenchResult
	pkg := ""
	for _, line := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), "github.com/movitera/movitera/")
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		r := goBenchResult{pkg: pkg, name: m[1], metrics: map[string]float64{}}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err == nil {
				r.metrics[f[i+1]] = v
				r.units = append(r.units, f[i+1])
			}
		}
		res = append(res, r)
	}
	return res
}

// ---------------------------------------------------------------- start-up

func (b *bench) startup() error {
	cmds := []hcmd{
		{"hello-world Go binary", b.bin.hello},
		{"movitera --version", b.bin.movitera + " --version"},
		{"movitera --help", b.bin.movitera + " --help"},
	}
	if gh, err := exec.LookPath("gh"); err == nil {
		cmds = append(cmds, hcmd{"gh --version", gh + " --version"})
	} else {
		log.Printf("gh not found: its figure is skipped (apt-get install gh)")
	}
	res, err := b.hyperfine("startup", b.opt.startupRuns, 20, cmds, b.env)
	if err != nil {
		return err
	}
	b.r.startup = res
	b.r.startupClean, b.r.startupNote = b.traceStartup()
	return nil
}

// traceStartup runs --version and --help under strace: no socket may be
// opened and nothing under the throw-away HOME or config directory may be
// touched (no config file, no keyring over D-Bus, no network).
func (b *bench) traceStartup() (bool, string) {
	if _, err := exec.LookPath("strace"); err != nil {
		return false, "strace not installed: not checked (code reading: the factory builds config, clients and the keyring lazily)"
	}
	home := envValue(b.env, "HOME")
	cfg := envValue(b.env, "MOVITERA_CONFIG_DIR")
	var problems []string
	for _, arg := range []string{"--version", "--help"} {
		trace := filepath.Join(b.work, "strace"+arg)
		cmd := exec.Command("strace", "-f", "-qq", "-o", trace,
			"-e", "trace=socket,connect,open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat",
			b.bin.movitera, arg)
		cmd.Env = b.env
		if out, err := cmd.CombinedOutput(); err != nil {
			return false, fmt.Sprintf("strace failed: %v: %s", err, out)
		}
		data, err := os.ReadFile(trace)
		if err != nil {
			return false, err.Error()
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "socket(") || strings.Contains(line, "connect(") ||
				strings.Contains(line, home) || strings.Contains(line, cfg) ||
				strings.Contains(line, "O_CREAT") || strings.Contains(line, "mkdir") {
				problems = append(problems, arg+": "+strings.TrimSpace(line))
			}
		}
	}
	if len(problems) > 0 {
		return false, "strace saw: " + strings.Join(problems, "; ")
	}
	return true, "strace (-f, socket/connect/open/creat/mkdir/rename/unlink): no socket, no file created, nothing opened under HOME or the config directory"
}

// ---------------------------------------------------------------- server

// wrkLoad is one shape of wrk's load: its threads and connections.
type wrkLoad struct {
	name           string
	threads, conns int
	judged         bool // the target is judged on this load
}

func (l wrkLoad) String() string { return fmt.Sprintf("-t%d -c%d", l.threads, l.conns) }

// wrkLoads are the loads the server is measured under, on a machine with
// cpus cores shared by wrk and the server. The first is sized to the
// machine (wrk on half the cores, two connections per core) and the
// target is judged on it; the second saturates it (a wrk thread per core,
// four connections per core), where both servers' p99 is the kernel's time
// slice rather than their own (see internal/bench/findings.md).
func wrkLoads(cpus int) []wrkLoad {
	return []wrkLoad{
		{name: "sized to the machine", threads: max(1, cpus/2), conns: 2 * cpus, judged: true},
		{name: "saturating", threads: cpus, conns: 4 * cpus},
	}
}

// wrkRounds are the alternating rounds of one load.
type wrkRounds struct {
	load      wrkLoad
	bare, srv []wrkResult
}

func (b *bench) server() error {
	srv, creds, err := b.startServer("server", nil)
	if err != nil {
		return err
	}
	bare, err := b.start("barehttp", exec.Command(b.bin.bare, "-addr", "127.0.0.1:0"), "listening on ")
	if err != nil {
		return err
	}
	hdr := "Authorization: Bearer " + creds.Token
	for _, load := range wrkLoads(runtime.NumCPU()) {
		rounds := wrkRounds{load: load}
		for i := 0; i < b.opt.wrkRounds; i++ {
			r, err := b.wrk(load, bare.url+"/api/v1/user", "")
			if err != nil {
				return err
			}
			rounds.bare = append(rounds.bare, r)
			if r, err = b.wrk(load, srv.url+"/api/v1/user", hdr); err != nil {
				return err
			}
			if r.non2xx > 0 {
				return fmt.Errorf("the server answered %d requests with an error status", r.non2xx)
			}
			rounds.srv = append(rounds.srv, r)
		}
		b.r.wrk = append(b.r.wrk, rounds)
	}
	b.stop(bare)
	b.stop(srv)
	return nil
}

type wrkResult struct {
	rps    float64
	p50    time.Duration
	p99    time.Duration
	non2xx int
}

func (b *bench) wrk(load wrkLoad, url, header string) (wrkResult, error) {
	args := []string{"-t" + strconv.Itoa(load.threads), "-c" + strconv.Itoa(load.conns), "-d" + strconv.Itoa(int(b.opt.wrkDuration.Seconds())) + "s", "--latency"}
	if header != "" {
		args = append(args, "-H", header)
	}
	cmd := exec.Command("wrk", append(args, url)...)
	cmd.Env = b.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return parseWrk(string(out))
}

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "50%":
			r.p50 = wrkDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.p99 = wrkDuration(f[1])
		case len(f) >= 5 && f[0] == "Non-2xx":
			r.non2xx, _ = strconv.Atoi(f[len(f)-1])
		}
	}
	if r.rps == 0 {
		return r, fmt.Errorf("no Requests/sec in wrk's output:\n%s", out)
	}
	return r, nil
}

func wrkDuration(s string) time.Duration {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return time.Duration(f * float64(u.unit))
		}
	}
	return 0
}

// ---------------------------------------------------------------- round trip

func (b *bench) roundTrip() error {
	srv, creds, err := b.startServer("list50", func(dir string) error { return seed(dir, 49) })
	if err != nil {
		return err
	}
	defer b.stop(srv)
	env := append(append([]string{}, b.env...), "MOVITERA_SERVER="+srv.url, "MOVITERA_TOKEN="+creds.Token)
	if n, err := b.countJSON(env); err != nil || n != 50 {
		return fmt.Errorf("tokens list --json listed %d tokens, want 50 (%v)", n, err)
	}
	hdrFile := filepath.Join(b.work, "auth-header")
	if err := os.WriteFile(hdrFile, []byte("Authorization: Bearer "+creds.Token+"\n"), 0o600); err != nil {
		return err
	}
	listURL := srv.url + "/api/v1/teams/acme/tokens?include_revoked=true&limit=100"
	cmds := []hcmd{
		{"curl (same list, one request)", "curl -sS -f -o /dev/null -H @" + hdrFile + " " + listURL},
		{"movitera tokens list --json", b.bin.movitera + " tokens list --json"},
	}
	res, err := b.hyperfine("list50", b.opt.runs, 3, cmds, env)
	if err != nil {
		return err
	}
	b.r.list50 = res
	return nil
}

func (b *bench) countJSON(env []string) (int, error) {
	cmd := exec.Command(b.bin.movitera, "tokens", "list", "--json")
	cmd.Env = env
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, err
	}
	var arr []json.RawMessage
	err = json.Unmarshal(out, &arr)
	return len(arr), err
}

// ---------------------------------------------------------------- scale

const scaleTokens = 10_000

func (b *bench) scale() error {
	srv, creds, err := b.startServer("list10k", func(dir string) error { return seed(dir, scaleTokens-1) })
	if err != nil {
		return err
	}
	defer b.stop(srv)
	env := append(append([]string{}, b.env...), "MOVITERA_SERVER="+srv.url, "MOVITERA_TOKEN="+creds.Token, "MOVITERA_TEAM=acme")
	if n, err := b.countJSON(env); err != nil || n != scaleTokens {
		return fmt.Errorf("tokens list --json listed %d tokens, want %d (%v)", n, scaleTokens, err)
	}
	// The table is drawn on a terminal only: script(1) gives the command a
	// pty (its own cost is in the figure).
	table := "script -qefc '" + b.bin.movitera + " tokens list' /dev/null"
	cmds := []hcmd{
		{"tokens list --json (10,000)", b.bin.movitera + " tokens list --json"},
		{"tokens list, table on a pty (10,000)", table},
		{"tokens list, pipe (10,000 tab-separated lines)", b.bin.movitera + " tokens list"},
	}
	runs := max(5, b.opt.runs/3)
	res, err := b.hyperfine("list10k", runs, 1, cmds, env)
	if err != nil {
		return err
	}
	b.r.list10k = res
	// Peak RSS, from wait4's rusage (what /usr/bin/time -v reports): the
	// largest of three runs.
	for i, argv := range [][]string{
		{b.bin.movitera, "tokens", "list", "--json"},
		{"script", "-qefc", b.bin.movitera + " tokens list", "/dev/null"},
		{b.bin.movitera, "tokens", "list"},
	} {
		var peak int64
		for j := 0; j < 3; j++ {
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = env
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
			}
			if i == 1 && !strings.Contains(string(out), "\x1b[") && !strings.Contains(string(out), "NAME") {
				return fmt.Errorf("the pty run did not draw a table: %.200q", out)
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > peak {
				peak = ru.Maxrss
			}
		}
		b.r.list10kRSS = append(b.r.list10kRSS, peak*1024)
	}
	return nil
}

// ---------------------------------------------------------------- device login

func (b *bench) deviceLogin() error {
	srv, creds, err := b.startServer("login", nil, "--poll-interval", strconv.Itoa(b.opt.pollInterval))
	if err != nil {
		return err
	}
	defer b.stop(srv)
	ap, err := newApprover(srv.url, creds)
	if err != nil {
		return err
	}
	for i := 0; i < b.opt.logins; i++ {
		d, err := b.oneLogin(srv.url, ap, i)
		if err != nil {
			return fmt.Errorf("login %d: %w", i+1, err)
		}
		b.r.logins = append(b.r.logins, d)
	}
	return nil
}

func (b *bench) oneLogin(url string, ap *approver, i int) (time.Duration, error) {
	cfg := filepath.Join(b.work, fmt.Sprintf("login-config-%d", i))
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		return 0, err
	}
	env := append(append([]string{}, b.env...), "MOVITERA_SERVER="+url, "MOVITERA_CONFIG_DIR="+cfg)
	cmd := exec.Command(b.bin.movitera, "login", "--no-browser", "--insecure-storage")
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	p := &proc{name: "login", cmd: cmd}
	b.started = append(b.started, p)
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var link string
	deadline := time.After(20 * time.Second)
	var transcript []string
	for link == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				return 0, fmt.Errorf("login ended before printing its URL:\n%s", strings.Join(transcript, "\n"))
			}
			transcript = append(transcript, l)
			if _, u, ok := strings.Cut(l, "Open this URL to continue in your browser: "); ok {
				link = strings.TrimSpace(u)
			}
		case <-deadline:
			return 0, errors.New("no URL within 20 s")
		}
	}
	if err := ap.approve(link); err != nil {
		return 0, err
	}
	approved := time.Now()
	done := make(chan error, 1)
	go func() {
		for l := range lines {
			transcript = append(transcript, l)
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		stored := time.Now()
		p.done = true
		if err != nil {
			return 0, fmt.Errorf("%v:\n%s", err, strings.Join(transcript, "\n"))
		}
		if _, err := os.Stat(filepath.Join(cfg, "credentials.json")); err != nil {
			return 0, fmt.Errorf("no token stored: %v", err)
		}
		return stored.Sub(approved), nil
	case <-time.After(time.Duration(b.opt.pollInterval)*time.Second + 30*time.Second):
		return 0, errors.New("login did not finish after the approval")
	}
}

// ---------------------------------------------------------------- servers and seeds

type proc struct {
	name   string
	cmd    *exec.Cmd
	url    string
	done   bool
	exited chan struct{} // closed when the process has ended (start's processes)
}

// start runs a command whose stderr announces its URL after marker. Its
// stderr goes to a file (the server's request log included), so reading it
// costs the measured processes nothing.
func (b *bench) start(name string, cmd *exec.Cmd, marker string) (*proc, error) {
	cmd.Env = b.env
	logf, err := os.CreateTemp(b.work, name+"-*.log")
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: cmd}
	b.started = append(b.started, p)
	exited := make(chan struct{})
	go func() { cmd.Process.Wait(); close(exited) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		data, _ := os.ReadFile(logf.Name())
		for _, line := range strings.Split(string(data), "\n") {
			if _, u, ok := strings.Cut(line, marker); ok {
				p.url = strings.TrimSpace(u)
				p.exited = exited
				return p, nil
			}
		}
		select {
		case <-exited:
			p.done = true
			return nil, fmt.Errorf("%s exited before listening:\n%s", name, data)
		default:
		}
	}
	return nil, fmt.Errorf("%s did not listen within 30 s", name)
}

func (b *bench) stop(p *proc) {
	if p == nil || p.done {
		return
	}
	p.done = true
	p.cmd.Process.Signal(os.Interrupt)
	ch := p.exited
	if ch == nil {
		c := make(chan struct{})
		go func() { p.cmd.Wait(); close(c) }()
		ch = c
	}
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-ch
	}
}

func (b *bench) stopAll() {
	for _, p := range b.started {
		b.stop(p)
	}
}

type devCreds struct {
	ServerURL  string `json:"server_url"`
	Email      string `json:"email"`
	Password   string `json:"password"`
	TOTPSecret string `json:"totp_secret"`
	Token      string `json:"token"`
}

// startServer starts "movitera server --dev" on a fresh data directory.
// With a seed function the server is started once (to set up the dev user),
// stopped, seeded through the store, and started again.
func (b *bench) startServer(name string, seedFn func(dataDir string) error, extra ...string) (*proc, *devCreds, error) {
	dir := filepath.Join(b.work, "data-"+name)
	args := append([]string{"server", "--dev", "--addr", "127.0.0.1:0", "--data-dir", dir}, extra...)
	srv, err := b.start(name, exec.Command(b.bin.movitera, args...), "listening on ")
	if err != nil {
		return nil, nil, err
	}
	if seedFn != nil {
		b.stop(srv)
		if err := seedFn(filepath.Join(dir, "movitera.db")); err != nil {
			return nil, nil, fmt.Errorf("seeding: %w", err)
		}
		if srv, err = b.start(name, exec.Command(b.bin.movitera, args...), "listening on "); err != nil {
			return nil, nil, err
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "dev-credentials.json"))
	if err != nil {
		return nil, nil, err
	}
	var c devCreds
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, err
	}
	return srv, &c, nil
}

// seed adds n tokens to team acme of the dev user, straight through the
// store in one transaction: the mix of a real team (every client type, one
// in ten revoked, one in ten expired, a third never used), newest first.
func seed(dbPath string, n int) error {
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	team, err := st.TeamBySlug(ctx, "acme")
	if err != nil {
		return err
	}
	user, err := st.UserByEmail(ctx, "dev@movitera.local")
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	types := []movitera.ClientType{movitera.TypeSDK, movitera.TypeCLI, movitera.TypeExtension, movitera.TypeOther, movitera.TypeAgent}
	uses := map[string]time.Time{}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			typ := types[i%len(types)]
			secret, err := movitera.NewSecret(typ)
			if err != nil {
				return err
			}
			id := make([]byte, 8)
			rand.Read(id)
			created := now.Add(-time.Duration(i+1) * time.Minute)
			exp := created.Add(90 * 24 * time.Hour)
			if i%10 == 3 {
				exp = now.Add(-time.Hour) // expired
			}
			nt := store.NewToken{
				ID: "tok_" + hex.EncodeToString(id), TeamID: team.ID, UserID: user.ID,
				Name:       fmt.Sprintf("bench %05d · %s", i, typ),
				ClientType: typ, Prefix: movitera.DisplayPrefix(secret), SecretHash: movitera.HashSecret(secret),
				CreatedAt: created, ExpiresAt: &exp,
			}
			if err := tx.InsertToken(ctx, nt); err != nil {
				return err
			}
			if i%10 == 7 {
				if _, _, err := tx.RevokeToken(ctx, team.ID, nt.ID, now.Add(-time.Minute)); err != nil {
					return err
				}
			}
			if i%3 != 0 {
				uses[nt.ID] = now.Add(-time.Duration(i%500) * time.Hour)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return st.RecordUse(ctx, uses)
}

// ---------------------------------------------------------------- hyperfine

type hcmd struct{ name, command string }

type timing struct {
	name                   string
	median, mean, min, max time.Duration
	stddev                 time.Duration
	runs                   int
	user, system           time.Duration
}

func (b *bench) hyperfine(tag string, runs, warmup int, cmds []hcmd, env []string) ([]timing, error) {
	out := filepath.Join(b.work, tag+".json")
	args := []string{"-N", "--style", "none", "--warmup", strconv.Itoa(warmup), "--runs", strconv.Itoa(runs), "--export-json", out}
	for _, c := range cmds {
		args = append(args, "-n", c.name, c.command)
	}
	cmd := exec.Command("hyperfine", args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("hyperfine: %w", err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Results []struct {
			Command string    `json:"command"`
			Mean    float64   `json:"mean"`
			Stddev  float64   `json:"stddev"`
			Median  float64   `json:"median"`
			User    float64   `json:"user"`
			System  float64   `json:"system"`
			Min     float64   `json:"min"`
			Max     float64   `json:"max"`
			Times   []float64 `json:"times"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	var res []timing
	for i, r := range doc.Results {
		res = append(res, timing{name: cmds[i].name, median: sec(r.Median), mean: sec(r.Mean), stddev: sec(r.Stddev),
			min: sec(r.Min), max: sec(r.Max), runs: len(r.Times), user: sec(r.User), system: sec(r.System)})
	}
	return res, nil
}

// ---------------------------------------------------------------- helpers

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

func medianDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration{}, ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianF(fs []float64) float64 {
	if len(fs) == 0 {
		return 0
	}
	s := append([]float64{}, fs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func describeMachine() machine {
	m := machine{goVersion: runtime.Version(), cores: runtime.NumCPU(), loadBefore: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				m.mem = fmt.Sprintf("%.0f GiB", kb/1024/1024)
			}
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.os = strings.Trim(v, `"`)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	for _, tool := range []string{"hyperfine", "wrk", "curl", "gh"} {
		if out, err := exec.Command(tool, "--version").CombinedOutput(); err == nil || len(out) > 0 {
			line := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
			if line != "" {
				m.tools = append(m.tools, line)
			}
		}
	}
	return m
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
