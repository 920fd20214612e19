//go:build linux

package main

import (
	_ "embed"
	"fmt"
	"math"
	"strings"
	"time"
)

// findings.md is the written part of the report: what the profiles showed
// and what was changed. The figures around it are measured on every run.
//
//go:embed findings.md
var findings string

type machine struct {
	cpu, mem, os, kernel, goVersion string
	cores                           int
	loadBefore                      string
	tools                           []string
}

type goBenchResult struct {
	pkg, name string
	metrics   map[string]float64
	units     []string
}

type results struct {
	start, end time.Time
	machine    machine
	loadAfter  string

	size, helloSize int64
	goBench         []goBenchResult

	startup      []timing // hello, --version, --help, gh --version
	startupClean bool
	startupNote  string

	wrk []wrkRounds // one per load of wrkLoads

	list50     []timing // curl, movitera
	list10k    []timing // json, table, pipe
	list10kRSS []int64  // bytes, same order

	logins []time.Duration
}

type row struct {
	target, figure, measured, yardstick, ratio, goal string
	met                                              *bool
}

func ok(b bool) *bool { return &b }

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "—"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func find(ts []timing, prefix string) (timing, bool) {
	for _, t := range ts {
		if strings.HasPrefix(t.name, prefix) {
			return t, true
		}
	}
	return timing{}, false
}

func (r *results) goMetric(pkgSuffix, name, unit string) (float64, bool) {
	for _, g := range r.goBench {
		if strings.HasSuffix(g.pkg, pkgSuffix) && g.name == name {
			v, ok := g.metrics[unit]
			return v, ok
		}
	}
	return 0, false
}

func (r *results) rows(o options) []row {
	var rows []row
	hello, _ := find(r.startup, "hello")
	gh, hasGH := find(r.startup, "gh")
	for _, name := range []string{"movitera --version", "movitera --help"} {
		t, found := find(r.startup, name)
		if !found {
			continue
		}
		x := ratio(t.median, hello.median)
		rows = append(rows, row{"1", name + " vs hello-world", ms(t.median), ms(hello.median) + " (hello-world)",
			fmt.Sprintf("%.2fx", x), "≤ 3x", ok(x <= 3)})
		if hasGH {
			y := ratio(t.median, gh.median)
			rows = append(rows, row{"1", name + " vs gh --version", ms(t.median), ms(gh.median) + " (gh " + "--version)",
				fmt.Sprintf("%.3fx", y), "≤ 0.25x", ok(y <= 0.25)})
		}
	}
	rows = append(rows, row{"1", "no config write, keyring or network on --version/--help", r.startupNote, "", "", "none", ok(r.startupClean)})

	if curl, found := find(r.list50, "curl"); found {
		mv, _ := find(r.list50, "movitera")
		x := ratio(mv.median, curl.median)
		rows = append(rows, row{"2", "tokens list --json, 50 tokens (MOVITERA_TOKEN only: GET /user for the team, then the list)",
			ms(mv.median), ms(curl.median) + " (curl, one GET)", fmt.Sprintf("%.2fx", x), "≤ 2x", ok(x <= 2)})
	}

	for i, name := range []string{"tokens list --json", "tokens list, table on a pty", "tokens list, pipe"} {
		t, found := find(r.list10k, name)
		if !found {
			continue
		}
		rss := int64(0)
		if i < len(r.list10kRSS) {
			rss = r.list10kRSS[i]
		}
		rows = append(rows, row{"3", t.name + ": time", ms(t.median), "", "", "< 1 s", ok(t.median < time.Second)})
		rows = append(rows, row{"3", t.name + ": peak RSS", mb(rss), "", "", "< 60 MB", ok(rss > 0 && rss < 60e6)})
	}

	for _, w := range r.wrk {
		var bareRPS, srvRPS []float64
		var bareP99, srvP99 []time.Duration
		for _, x := range w.bare {
			bareRPS, bareP99 = append(bareRPS, x.rps), append(bareP99, x.p99)
		}
		for _, x := range w.srv {
			srvRPS, srvP99 = append(srvRPS, x.rps), append(srvP99, x.p99)
		}
		x := medianF(srvRPS) / medianF(bareRPS)
		p := medianDur(srvP99)
		rpsGoal, p99Goal, rpsMet, p99Met := "≥ 0.5x", "< 5 ms", ok(x >= 0.5), ok(p < 5*time.Millisecond)
		if !w.load.judged {
			rpsGoal, p99Goal, rpsMet, p99Met = "(context)", "(context)", nil, nil
		}
		rows = append(rows, row{"4", fmt.Sprintf("GET /api/v1/user under wrk %s, %s (%d × %s, alternating): req/s", w.load, w.load.name, len(w.srv), o.wrkDuration),
			fmt.Sprintf("%.0f req/s", medianF(srvRPS)), fmt.Sprintf("%.0f req/s (bare net/http)", medianF(bareRPS)),
			fmt.Sprintf("%.2fx", x), rpsGoal, rpsMet})
		rows = append(rows, row{"4", fmt.Sprintf("GET /api/v1/user under wrk %s: p99 latency", w.load), ms(p), ms(medianDur(bareP99)) + " (bare net/http)", "", p99Goal, p99Met})
	}
	if a, found := r.goMetric("internal/server", "BenchmarkTokenByHash/stored=1000", "ns/op"); found {
		bb, _ := r.goMetric("internal/server", "BenchmarkTokenByHash/stored=100000", "ns/op")
		x := bb / a
		rows = append(rows, row{"4", "token look-up by hash, 100,000 vs 1,000 stored (Go benchmark)",
			fmt.Sprintf("%.1f µs", bb/1e3), fmt.Sprintf("%.1f µs (1,000 stored)", a/1e3), fmt.Sprintf("%.2fx", x), "flat (≤ 1.5x)", ok(x <= 1.5)})
	}
	if a, found := r.goMetric("internal/server", "BenchmarkGetUser/stored=1000", "ns/op"); found {
		bb, _ := r.goMetric("internal/server", "BenchmarkGetUser/stored=100000", "ns/op")
		x := bb / a
		rows = append(rows, row{"4", "authenticated GET /api/v1/user in process, 100,000 vs 1,000 stored (Go benchmark)",
			fmt.Sprintf("%.1f µs", bb/1e3), fmt.Sprintf("%.1f µs (1,000 stored)", a/1e3), fmt.Sprintf("%.2fx", x), "flat (≤ 1.5x)", ok(x <= 1.5)})
	}
	if w, found := r.goMetric("internal/server", "BenchmarkGetUser/stored=1000", "last_used_rows_per_flush"); found {
		rows = append(rows, row{"4", "last_used_at rows written per flush after b.N requests of one token (Go benchmark)",
			fmt.Sprintf("%.0f", w), "", "", "1 (coalesced)", ok(w == 1)})
	}

	if len(r.logins) > 0 {
		d := medianDur(r.logins)
		goal := time.Duration(o.pollInterval)*time.Second + 500*time.Millisecond
		var each []string
		for _, l := range r.logins {
			each = append(each, ms(l))
		}
		rows = append(rows, row{"5", fmt.Sprintf("device login: approved → token stored and login exited (%d logins: %s)", len(r.logins), strings.Join(each, ", ")),
			ms(d), fmt.Sprintf("poll interval %d s", o.pollInterval), "", "≤ " + ms(goal), ok(d <= goal)})
	}

	rows = append(rows, row{"6", "binary size, stripped (CGO_ENABLED=0, -trimpath -s -w)", mb(r.size), mb(r.helloSize) + " (hello-world)", "", "≤ 25 MB", ok(r.size <= 25e6)})
	return rows
}

func (r *results) markdown(o options) string {
	var b strings.Builder
	m := r.machine
	fmt.Fprintf(&b, `# Performance

Written by `+"`make bench`"+` (internal/bench) on %s; do not edit by hand — the written part at the
end lives in internal/bench/findings.md. Every figure is a median; every ratio compares two
figures measured side by side in this one run, on this machine.

## Machine

- CPU: %s, %d cores; memory %s
- OS: %s, kernel %s; %s
- Load average before / after the run: %s / %s (the machines here are shared and noisy:
  compare ratios, not absolute times)
- Tools: %s
- Run: %s, %s

## Figures

| target | figure | measured (median) | yardstick (median) | ratio | goal | met |
| --- | --- | --- | --- | --- | --- | --- |
`, r.start.UTC().Format("2006-01-02 15:04 MST"), m.cpu, m.cores, m.mem, m.os, m.kernel, m.goVersion,
		m.loadBefore, r.loadAfter, strings.Join(m.tools, "; "),
		fmt.Sprintf("%d hyperfine runs per start-up command, %d per 50-token command, %d wrk rounds of %s per load", o.startupRuns, o.runs, o.wrkRounds, o.wrkDuration),
		"took "+r.end.Sub(r.start).Round(time.Second).String())
	for _, rw := range r.rows(o) {
		met := ""
		if rw.met != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*rw.met]
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", rw.target, esc(rw.figure), esc(rw.measured), esc(rw.yardstick), rw.ratio, rw.goal, met)
	}

	b.WriteString("\n### Whole-process timings (hyperfine)\n\n| command | median | mean ± σ | min … max | user | system | runs |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, group := range [][]timing{r.startup, r.list50, r.list10k} {
		for _, t := range group {
			fmt.Fprintf(&b, "| %s | %s | %s ± %s | %s … %s | %s | %s | %d |\n", esc(t.name), ms(t.median), ms(t.mean), ms(t.stddev),
				ms(t.min), ms(t.max), ms(t.user), ms(t.system), t.runs)
		}
	}
	if len(r.wrk) > 0 {
		b.WriteString("\n### wrk rounds (alternating)\n\n| load | round | bare net/http req/s | p50 | p99 | movitera server req/s | p50 | p99 |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, w := range r.wrk {
			for i := range w.srv {
				fmt.Fprintf(&b, "| %s | %d | %.0f | %s | %s | %.0f | %s | %s |\n", w.load, i+1, w.bare[i].rps, ms(w.bare[i].p50), ms(w.bare[i].p99),
					w.srv[i].rps, ms(w.srv[i].p50), ms(w.srv[i].p99))
			}
		}
	}
	if len(r.goBench) > 0 {
		b.WriteString("\n### Go benchmarks (`go test -run '^$' -bench . -benchmem`)\n\n| package | benchmark | ns/op | B/op | allocs/op | other |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, g := range r.goBench {
			var other []string
			for _, u := range g.units {
				if u != "ns/op" && u != "B/op" && u != "allocs/op" {
					other = append(other, fmt.Sprintf("%g %s", g.metrics[u], u))
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", g.pkg, g.name, num(g.metrics["ns/op"]), num(g.metrics["B/op"]),
				num(g.metrics["allocs/op"]), strings.Join(other, ", "))
		}
	}
	fmt.Fprintf(&b, `
## How to rerun

`+"```"+`
make bench                              # Go benchmarks, then this report
bash internal/bench/run.sh              # the whole-process part only (runs the Go benchmarks itself)
go run ./internal/bench -runs 50 -wrk-duration 10s -logins 5   # longer, steadier
go test -run '^$' -bench GetUser -cpuprofile cpu.out ./internal/server/ && go tool pprof -top cpu.out
`+"```"+`

run.sh installs hyperfine, wrk, curl and gh from Debian when they are missing. Everything runs
on 127.0.0.1: throw-away servers (`+"`movitera server --dev`"+` on fresh data directories, seeded
through internal/store), a bare net/http handler (internal/bench/barehttp), a hello-world Go
binary built like movitera, and the real device pages walked over HTTP with a cookie jar. The
table of 10,000 tokens is drawn on a pty (script(1), whose own start-up is in the figure); peak
RSS is wait4's maxrss, the figure `+"`/usr/bin/time -v`"+` prints. Nothing here is part of
`+"`make test`"+` or CI, and no test asserts a time.

`)
	b.WriteString(strings.TrimSpace(findings))
	b.WriteString("\n")
	return b.String()
}

func (r *results) summary(o options) string {
	var b strings.Builder
	for _, rw := range r.rows(o) {
		met := ""
		if rw.met != nil && !*rw.met {
			met = "  <-- MISSED"
		}
		fmt.Fprintf(&b, "%s  %-70.70s %s %s %s%s\n", rw.target, rw.figure, rw.measured, rw.ratio, rw.goal, met)
	}
	return b.String()
}

func num(f float64) string {
	if f == 0 {
		return "—"
	}
	if f >= 100 {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.2f", f)
}

func esc(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
