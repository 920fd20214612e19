//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// terminal is a tmux server of its own (a unique socket) whose windows run
// movitera in a real pty, 200×50, as a person sees it.
type terminal struct {
	t      *testing.T
	u      *user
	socket string
	env    []string
	n      int
}

var terminals atomic.Int64

func newTerminal(t *testing.T, u *user) *terminal {
	t.Helper()
	requireTools(t, "the terminal test", "tmux")
	tm := &terminal{
		t: t, u: u,
		socket: fmt.Sprintf("movitera-e2e-%d-%d", os.Getpid(), terminals.Add(1)),
		env:    u.environ(map[string]string{"TERM": "xterm-256color", "TMUX_TMPDIR": t.TempDir()}),
	}
	t.Cleanup(func() {
		cmd := exec.Command("tmux", "-L", tm.socket, "kill-server")
		cmd.Env = tm.env
		cmd.Run()
	})
	return tm
}

func (tm *terminal) tmux(args ...string) string {
	tm.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-f", "/dev/null", "-L", tm.socket}, args...)...)
	cmd.Env = tm.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// pane is one command running in its own tmux session.
type pane struct {
	tm     *terminal
	target string
	line   string
}

var exitRe = regexp.MustCompile(`\[exit (\d+)\]`)

// run starts a shell command line in a new 200×50 window. The line is run
// by sh, then "[exit N]" is printed and the window stays open for capture.
func (tm *terminal) run(line string) *pane {
	tm.t.Helper()
	return tm.runSized(line, 200)
}

// runSized is run in a window cols columns wide.
func (tm *terminal) runSized(line string, cols int) *pane {
	tm.t.Helper()
	tm.n++
	name := "w" + strconv.Itoa(tm.n)
	script := line + "\necho \"[exit $?]\"\nexec sleep 3600\n"
	tm.tmux("new-session", "-d", "-s", name, "-x", strconv.Itoa(cols), "-y", "50", "--", "sh", "-c", script)
	return &pane{tm: tm, target: name + ":0.0", line: line}
}

// capture is the screen; with escapes, colours and attributes as SGR
// sequences (capture-pane -e).
func (p *pane) capture(escapes bool) string {
	p.tm.t.Helper()
	args := []string{"capture-pane", "-p", "-t", p.target}
	if escapes {
		args = append(args, "-e")
	}
	return p.tm.tmux(args...)
}

// waitScreen waits until the screen matches re; it returns the match.
func (p *pane) waitScreen(re *regexp.Regexp, within time.Duration) []string {
	p.tm.t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := p.capture(false)
		if m := re.FindStringSubmatch(s); m != nil {
			return m
		}
		if exitRe.MatchString(s) || time.Now().After(deadline) {
			p.tm.t.Fatalf("%s: the screen never showed %s; it shows:\n%s", p.line, re, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExit waits for the command to end; it returns its exit code and the
// screen with escapes.
func (p *pane) waitExit(within time.Duration) (int, string) {
	p.tm.t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := p.capture(false)
		if m := exitRe.FindStringSubmatch(s); m != nil {
			code, _ := strconv.Atoi(m[1])
			return code, p.capture(true)
		}
		if time.Now().After(deadline) {
			p.tm.t.Fatalf("%s did not end within %s; the screen shows:\n%s", p.line, within, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// typeText types text literally, then Enter.
func (p *pane) typeLine(text string) {
	p.tm.t.Helper()
	if text != "" {
		p.tm.tmux("send-keys", "-t", p.target, "-l", text)
	}
	p.tm.tmux("send-keys", "-t", p.target, "Enter")
}

// shq quotes a word for sh.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// cmdline is movitera with its arguments, quoted for sh.
func cmdline(args ...string) string {
	q := []string{shq(movitera)}
	for _, a := range args {
		q = append(q, shq(a))
	}
	return strings.Join(q, " ")
}

// style is the look of one cell: what SGR sequences set.
type style struct {
	Bold, Strike bool
	FG           string // "" default, else the SGR colour parameters ("33", "38;5;3" …)
}

// cell is a character on screen with its style.
type cell struct {
	r rune
	s style
}

var sgrRe = regexp.MustCompile(`^\x1b\[([0-9;]*)m`)

// parseStyled turns a captured line (capture-pane -e) into cells.
func parseStyled(line string) []cell {
	var cells []cell
	var cur style
	for i := 0; i < len(line); {
		if m := sgrRe.FindStringSubmatch(line[i:]); m != nil {
			ps := strings.Split(m[1], ";")
			for j := 0; j < len(ps); j++ {
				switch p := ps[j]; {
				case p == "" || p == "0":
					cur = style{}
				case p == "1":
					cur.Bold = true
				case p == "22":
					cur.Bold = false
				case p == "9":
					cur.Strike = true
				case p == "29":
					cur.Strike = false
				case p == "39":
					cur.FG = ""
				case (p == "38") && j+1 < len(ps):
					n := 3
					if ps[j+1] == "2" {
						n = 5
					}
					end := min(j+n, len(ps)-1)
					cur.FG = strings.Join(ps[j:end+1], ";")
					j = end
				case len(p) == 2 && (p[0] == '3' || p[0] == '9') && p[1] >= '0' && p[1] <= '7':
					cur.FG = p
				}
			}
			i += len(m[0])
			continue
		}
		if line[i] == 0x1b { // another escape: skip it whole
			j := i + 1
			for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e || j == i+1) {
				j++
			}
			i = j + 1
			continue
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		cells = append(cells, cell{r, cur})
		i += size
	}
	return cells
}

// styleOfText returns the style of every character of the first occurrence
// of text in a styled line, and whether it was found.
func styleOfText(cells []cell, text string) ([]style, bool) {
	plain := make([]rune, len(cells))
	for i, c := range cells {
		plain[i] = c.r
	}
	idx := strings.Index(string(plain), text)
	if idx < 0 {
		return nil, false
	}
	start := len([]rune(string(plain)[:idx]))
	var out []style
	for i := start; i < start+len([]rune(text)); i++ {
		out = append(out, cells[i].s)
	}
	return out, true
}

func plainText(cells []cell) string {
	var b strings.Builder
	for _, c := range cells {
		b.WriteRune(c.r)
	}
	return b.String()
}

// findRow returns the styled screen line that contains text.
func findRow(screen, text string) []cell {
	for _, line := range strings.Split(screen, "\n") {
		cells := parseStyled(line)
		if strings.Contains(plainText(cells), text) {
			return cells
		}
	}
	return nil
}

// spinnerRe is the login's live wait line on a terminal.
var spinnerRe = regexp.MustCompile(`([⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]) Waiting for the approval in the browser\.\.\. (\d+:\d\d) left`)

// TestTerminalLoginSpinner: on a terminal, login shows the code and the URL,
// then a live spinner with the time left, until the approval.
func TestTerminalLoginSpinner(t *testing.T) {
	t.Parallel()
	requireTools(t, "the terminal test", "tmux")
	v := startServer(t, serverOptions{})
	u := newUser(t, v)
	tm := newTerminal(t, u)
	p := tm.run(cmdline("login", "--no-browser", "--insecure-storage"))

	m := p.waitScreen(regexp.MustCompile(`one-time code: ([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})`), 20*time.Second)
	code := m[1]
	screen := p.capture(false)
	if !strings.Contains(screen, v.URL+"/device") {
		t.Errorf("the screen does not show the URL %s/device:\n%s", v.URL, screen)
	}
	first := p.waitScreen(spinnerRe, 10*time.Second)
	// It is live: the frame moves.
	deadline := time.Now().Add(3 * time.Second)
	for {
		now := spinnerRe.FindStringSubmatch(p.capture(false))
		if now != nil && now[1] != first[1] {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the spinner did not move in 3s: %q", first[0])
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := strings.Count(p.capture(false), "Waiting for the approval"); n != 1 {
		t.Errorf("the wait line appears %d times on screen (a spinner redraws one line):\n%s", n, p.capture(false))
	}

	newPageClient(t, v).approve(v, v.URL+"/device?user_code="+code, false)
	exit, final := p.waitExit(30 * time.Second)
	plain := p.capture(false)
	if exit != 0 {
		t.Fatalf("login on a terminal: exit %d:\n%s", exit, plain)
	}
	if spinnerRe.MatchString(plain) {
		t.Errorf("the spinner is left on screen after the login:\n%s", plain)
	}
	if !strings.Contains(plain, code) {
		t.Errorf("the code is gone from the screen after the login:\n%s", plain)
	}
	if strings.Contains(final, "\x1b[K") {
		t.Errorf("raw erase sequences reached the screen: %q", final)
	}

	// The same login with its output piped through cat: plain lines, no
	// spinner, no escape sequence.
	u2 := newUser(t, v)
	tm2 := newTerminal(t, u2)
	file := filepath.Join(t.TempDir(), "login.out")
	p = tm2.run(cmdline("login", "--no-browser", "--insecure-storage") + " 2>&1 | cat > " + shq(file))
	var text string
	deadline = time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(file)
		text = string(b)
		if strings.Contains(text, "Waiting for the approval") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("login | cat wrote no wait line within 20s: %q", text)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m = userCodeRe.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("login | cat shows no code: %q", text)
	}
	newPageClient(t, v).approve(v, v.URL+"/device?user_code="+m[1], false)
	if exit, _ := p.waitExit(30 * time.Second); exit != 0 {
		t.Fatalf("login | cat: exit %d:\n%s", exit, p.capture(false))
	}
	b, _ := os.ReadFile(file)
	if bytes.Contains(b, []byte("\x1b")) || bytes.ContainsAny(b, "\r⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏") {
		t.Errorf("login | cat carries escapes, carriage returns or spinner frames: %q", b)
	}
	if !strings.Contains(string(b), "Waiting for the approval in the browser (the code expires in 15 minutes)...\n") || !strings.Contains(string(b), "✓ Logged in to ") {
		t.Errorf("login | cat: want the plain wait line and the success line: %q", b)
	}
}

// tokenJSON is one token of `tokens list --json`.
type tokenJSON struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	Prefix    string  `json:"prefix"`
	RevokedAt *string `json:"revoked_at"`
	ExpiresAt *string `json:"expires_at"`
	State     string  `json:"state"`
}

func listTokens(t *testing.T, u *user) map[string]tokenJSON {
	t.Helper()
	r := u.mustRun("tokens", "list", "--json")
	var toks []tokenJSON
	if err := json.Unmarshal([]byte(r.Stdout), &toks); err != nil {
		t.Fatalf("tokens list --json: %v\n%s", err, r)
	}
	byName := map[string]tokenJSON{}
	for _, tk := range toks {
		byName[tk.Name] = tk
	}
	return byName
}

// TestTerminalTokens: what a person sees of tokens create, revoke and list
// on a terminal, and that the same commands in a pipe carry no escapes.
func TestTerminalTokens(t *testing.T) {
	t.Parallel()
	requireTools(t, "the terminal test", "tmux")
	v := startServer(t, serverOptions{})
	u := newUser(t, v)
	u.setenv("MOVITERA_TOKEN", v.Dev.Token) // a manager of acme; no second factor confirmed yet
	tm := newTerminal(t, u)
	out := t.TempDir()

	// create: the server wants a second factor; the terminal asks, the
	// person types the code (not echoed), the token is made.
	p := tm.run(cmdline("tokens", "create", "--name", "ci deploy", "--type", "sdk", "--expires", "30d"))
	p.waitScreen(regexp.MustCompile(`Code from your authenticator app:`), 20*time.Second)
	code := v.totpCode(t)
	p.typeLine(code)
	exit, _ := p.waitExit(30 * time.Second)
	screen := p.capture(false)
	if exit != 0 {
		t.Fatalf("tokens create answered by typing the code: exit %d:\n%s", exit, screen)
	}
	if strings.Contains(screen, code) {
		t.Errorf("the TOTP code typed was echoed on screen:\n%s", screen)
	}
	for _, want := range []string{"Creating a token needs a recent second-factor confirmation.", `Created SDK token "ci deploy"`, "you won't be able to see it again"} {
		if !strings.Contains(screen, want) {
			t.Errorf("tokens create on a terminal does not show %q:\n%s", want, screen)
		}
	}
	if !regexp.MustCompile(`(?m)^mvs_[0-9A-Za-z]{38}$`).MatchString(screen) {
		t.Errorf("tokens create shows no secret on a line of its own:\n%s", screen)
	}

	// More tokens, in a pipe (the second factor holds for 10 minutes).
	shortSecret := u.mustRun("tokens", "create", "--name", "short lived", "--type", "sdk", "--expires", "7d").Stdout
	if !regexp.MustCompile(`^mvs_[0-9A-Za-z]{38}\n$`).MatchString(shortSecret) {
		t.Errorf("tokens create in a pipe: stdout is not the secret alone: %q", shortSecret)
	}
	u.mustRun("tokens", "create", "--name", "to revoke", "--type", "other", "--expires", "90d")
	toks := listTokens(t, u)
	victim, ok := toks["to revoke"]
	if !ok {
		t.Fatalf("tokens list --json lacks \"to revoke\": %+v", toks)
	}

	// revoke, answered n: nothing revoked.
	p = tm.run(cmdline("tokens", "revoke", victim.ID))
	p.waitScreen(regexp.MustCompile(`Revoke 1 token\? \[y/N\]`), 20*time.Second)
	screen = p.capture(false)
	for _, want := range []string{"About to revoke 1 token in team acme:", "to revoke", victim.ID, "Revocation is immediate and can't be undone"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the revoke confirmation does not show %q:\n%s", want, screen)
		}
	}
	p.typeLine("n")
	exit, _ = p.waitExit(20 * time.Second)
	screen = p.capture(false)
	if exit == 0 {
		t.Errorf("revoke answered n exited 0 (want non-zero, nothing done):\n%s", screen)
	}
	if !strings.Contains(screen, "nothing was changed") {
		t.Errorf("revoke answered n does not say nothing was changed:\n%s", screen)
	}
	if strings.Contains(screen, "Token revoked") {
		t.Errorf("revoke answered n says a token was revoked:\n%s", screen)
	}
	if got := listTokens(t, u)["to revoke"]; got.RevokedAt != nil || got.State == "revoked" {
		t.Fatalf("revoke answered n revoked the token: %+v", got)
	}

	// revoke, answered y.
	p = tm.run(cmdline("tokens", "revoke", victim.ID))
	p.waitScreen(regexp.MustCompile(`Revoke 1 token\? \[y/N\]`), 20*time.Second)
	p.typeLine("y")
	exit, _ = p.waitExit(20 * time.Second)
	screen = p.capture(false)
	if exit != 0 {
		t.Fatalf("revoke answered y: exit %d:\n%s", exit, screen)
	}
	if want := fmt.Sprintf("Token revoked: \"to revoke\" (%s, %s)", victim.ID, victim.Prefix); !strings.Contains(screen, want) {
		t.Errorf("revoke answered y does not say %q:\n%s", want, screen)
	}
	if got := listTokens(t, u)["to revoke"]; got.RevokedAt == nil || got.State != "revoked" {
		t.Fatalf("revoke answered y did not revoke the token: %+v", got)
	}

	// list on a terminal: bold header, ≤7 days highlighted, revoked struck
	// through, the rest plain.
	p = tm.run(cmdline("tokens", "list"))
	exit, styled := p.waitExit(20 * time.Second)
	if exit != 0 {
		t.Fatalf("tokens list on a terminal: exit %d:\n%s", exit, p.capture(false))
	}
	t.Logf("tokens list on a terminal (capture-pane -e):\n%q", styled)
	checkStyle := func(rowKey, text, what string, ok func(style) bool) {
		t.Helper()
		row := findRow(styled, rowKey)
		if row == nil {
			t.Errorf("no row with %q on screen:\n%s", rowKey, p.capture(false))
			return
		}
		styles, found := styleOfText(row, text)
		if !found {
			t.Errorf("row %q has no %q: %q", rowKey, text, plainText(row))
			return
		}
		for _, s := range styles {
			if !ok(s) {
				t.Errorf("%q in row %q is not %s: %+v", text, rowKey, what, s)
				return
			}
		}
	}
	bold := func(s style) bool { return s.Bold }
	plainStyle := func(s style) bool { return s == style{} }
	checkStyle("PREFIX", "NAME", "bold (header)", bold)
	checkStyle("PREFIX", "EXPIRES", "bold (header)", bold)
	checkStyle("short lived", "short lived", "plain", plainStyle)
	shortRow := plainText(findRow(styled, "short lived"))
	if m := regexp.MustCompile(`Expires in [67] days`).FindString(shortRow); m == "" {
		t.Errorf("the 7-day token's row does not say it expires in 6 or 7 days: %q", shortRow)
	} else {
		checkStyle("short lived", m, "highlighted (bold yellow)", func(s style) bool { return s.Bold && (s.FG == "33" || s.FG == "93") })
	}
	ciRow := plainText(findRow(styled, "ci deploy"))
	if m := regexp.MustCompile(`Expires in (29|30) days`).FindString(ciRow); m == "" {
		t.Errorf("the 30-day token's row does not say it expires in 29 or 30 days: %q", ciRow)
	} else {
		checkStyle("ci deploy", m, "plain (over 7 days)", plainStyle)
	}
	strike := func(s style) bool { return s.Strike }
	for _, text := range []string{victim.ID, "to revoke", victim.Prefix, "Revoked"} {
		checkStyle("to revoke", text, "struck through (SGR 9)", strike)
	}
	checkStyle("short lived", "short lived", "without strike-through", func(s style) bool { return !s.Strike })

	// NO_COLOR on a terminal: the same table, no escape at all.
	p = tm.run("NO_COLOR=1 " + cmdline("tokens", "list"))
	if exit, styled := p.waitExit(20 * time.Second); exit != 0 || strings.Contains(styled, "\x1b") {
		t.Errorf("tokens list with NO_COLOR on a terminal: exit %d, escapes: %q", exit, styled)
	}

	// The same commands piped through cat: no escape sequence on stdout.
	pipes := map[string]string{
		"list":        cmdline("tokens", "list"),
		"list-active": cmdline("tokens", "list", "--active"),
		"list-json":   cmdline("tokens", "list", "--json"),
		"create":      cmdline("tokens", "create", "--name", "piped", "--type", "sdk", "--expires", "7d"),
		"revoke":      cmdline("tokens", "revoke", "--yes", "piped"),
	}
	for _, name := range []string{"list", "list-active", "list-json", "create", "revoke"} {
		file := filepath.Join(out, name+".out")
		p := tm.run(pipes[name] + " | cat > " + shq(file))
		exit, _ := p.waitExit(20 * time.Second)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if exit != 0 {
			t.Errorf("%s | cat: exit %d:\n%s", name, exit, p.capture(false))
		}
		if bytes.Contains(b, []byte("\x1b")) {
			t.Errorf("%s | cat: stdout carries escape sequences: %q", name, b)
		}
		if name == "list" {
			if !strings.Contains(string(b), "to revoke") || !strings.Contains(string(b), "Revoked") || !strings.Contains(string(b), "\t") {
				t.Errorf("tokens list | cat: want tab-separated rows with the revoked token: %q", b)
			}
		}
	}
}

// TestTerminalTableFitsNarrowPane: in a 60-column pane, tokens list with
// long CJK and emoji names shows no line longer than the pane (capture-pane
// -J joins the lines that wrapped, so it must show the same lines), IDs
// whole, names cut with "…". COLUMNS=60 on a 200-column pane gives the
// same table.
func TestTerminalTableFitsNarrowPane(t *testing.T) {
	t.Parallel()
	requireTools(t, "the terminal test", "tmux")
	v := startServer(t, serverOptions{})
	u := newUser(t, v)
	u.setenv("MOVITERA_TOKEN", v.Dev.Token)
	u.mustRun("tokens", "create", "--name", "東京オフィスの本番環境デプロイ用トークン · sdk", "--type", "sdk", "--expires", "30d", "--otp", v.totpCode(t))
	u.mustRun("tokens", "create", "--name", "🔑🚀 deploy bot of the staging cluster in eu-west-1", "--type", "sdk", "--expires", "7d")
	u.mustRun("tokens", "create", "--name", "meu macbook pro do trabalho · cli", "--type", "cli", "--expires", "90d")
	toks := listTokens(t, u)
	tm := newTerminal(t, u)

	table := func(p *pane) string {
		t.Helper()
		if exit, _ := p.waitExit(20 * time.Second); exit != 0 {
			t.Fatalf("%s: exit %d:\n%s", p.line, exit, p.capture(false))
		}
		screen := p.capture(false)
		joined := p.tm.tmux("capture-pane", "-p", "-J", "-t", p.target)
		var out []string
		for i, line := range strings.Split(strings.TrimRight(joined, "\n"), "\n") {
			if strings.HasPrefix(line, "[exit ") {
				break
			}
			out = append(out, strings.TrimRight(line, " "))
			if want := strings.Split(screen, "\n"); i >= len(want) || out[i] != strings.TrimRight(want[i], " ") {
				t.Fatalf("%s: a line is longer than the pane and wrapped:\n%s", p.line, joined)
			}
		}
		return strings.Join(out, "\n")
	}

	narrow := table(tm.runSized(cmdline("tokens", "list"), 60))
	t.Logf("tokens list in a 60-column pane:\n%s", narrow)
	if header := strings.Fields(strings.SplitN(narrow, "\n", 2)[0]); strings.Join(header, " ") != "ID NAME EXPIRES" {
		t.Errorf("60 columns: header %q, want ID NAME EXPIRES", header)
	}
	for name, tk := range toks {
		if !strings.Contains(narrow, tk.ID) {
			t.Errorf("60 columns: the id of %q (%s) is not shown whole:\n%s", name, tk.ID, narrow)
		}
	}
	for _, cut := range []string{"東京オフィスの本…", "🔑🚀 deploy bot o…", "meu macbook pro d…"} {
		if !strings.Contains(narrow, cut) {
			t.Errorf("60 columns: no %q:\n%s", cut, narrow)
		}
	}

	if wide := table(tm.run("COLUMNS=60 " + cmdline("tokens", "list"))); wide != narrow {
		t.Errorf("COLUMNS=60 on a 200-column pane differs from a 60-column pane:\n%s\n---\n%s", wide, narrow)
	}
}
