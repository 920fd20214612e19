package cmd_test

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// authProxy is a reverse proxy in front of a script's vault that can drop
// the Authorization header of every request, as a misconfigured proxy
// does.
type authProxy struct {
	url  string
	drop atomic.Bool
}

// cmdAuthProxy is the script command "authproxy pass|drop". Its first use
// starts the proxy on a loopback port and sets $AUTHPROXY to its URL; pass
// relays requests as they are, drop removes their Authorization header.
func cmdAuthProxy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "pass" && args[0] != "drop") {
		ts.Fatalf("usage: authproxy pass|drop")
	}
	ss := scriptServerOf(ts)
	if ss.proxy == nil {
		target, err := url.Parse(ss.url)
		ts.Check(err)
		p := &authProxy{}
		rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			if p.drop.Load() {
				r.Out.Header.Del("Authorization")
			}
		}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		hs := &http.Server{Handler: rp, ReadHeaderTimeout: 5 * time.Second}
		go hs.Serve(ln)
		ts.Defer(func() { hs.Close() })
		p.url = "http://" + ln.Addr().String()
		ss.proxy = p
		ts.Setenv("AUTHPROXY", p.url)
	}
	ss.proxy.drop.Store(args[0] == "drop")
}
