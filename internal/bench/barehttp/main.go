// Command barehttp is the yardstick of the server benchmark: a bare net/http
// handler that answers every request with a fixed JSON body about the size of
// GET /api/v1/user's. run.sh measures it under wrk side by side with the
// real server. It listens on a loopback address only.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	size := flag.Int("size", 520, "bytes of JSON in each answer")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintln(os.Stderr, "barehttp: --addr must be a loopback host:port")
		os.Exit(2)
	}
	body := []byte(`{"pad":"` + strings.Repeat("x", max(0, *size-11)) + `"}` + "\n")
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "barehttp:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "listening on http://%s\n", ln.Addr())
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	fmt.Fprintln(os.Stderr, "barehttp:", err)
	os.Exit(1)
}
