package cmd_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// gateBus stands between movitera and the real session bus and makes one
// keyring write land late. It passes every D-Bus message on, except the
// first Secret Service CreateItem call (a keyring write) of the process:
// that one, and whatever its connection sends after it, is held, so that
// the write times out in movitera. It is let through once FILE exists
// (-release-on FILE: the scripts' server creates $WORK/revoked once login
// has revoked the token whose write timed out), or else when the
// connection closes (movitera has exited). Either way the write lands
// after movitera gave up on it.
//
// Usage: gate-bus [-release-on FILE] SOCKET BUS_ADDRESS. It logs the
// calls in the order they reach the bus in SOCKET.log, with "hold
// CreateItem" when it holds, "held <call>" for each call that comes while
// it holds (none, when movitera waits for the write before its next call)
// and "release" when it lets the held calls through; it creates
// SOCKET.landed once the bus has answered the held write. Run it in the
// background; the script's end kills it.
func gateBus() {
	fs := flag.NewFlagSet("gate-bus", flag.ExitOnError)
	releaseOn := fs.String("release-on", "", "let the held write through once this file exists")
	fs.Parse(os.Args[1:])
	if fs.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: gate-bus [-release-on FILE] SOCKET BUS_ADDRESS")
		os.Exit(2)
	}
	upstream, err := busSocket(fs.Arg(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gate-bus:", err)
		os.Exit(2)
	}
	g := &gate{sock: fs.Arg(0), upstream: upstream, releaseOn: *releaseOn}
	ln, err := net.Listen("unix", g.sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gate-bus:", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(0)
		}
		go g.serve(c)
	}
}

type gate struct {
	sock, upstream string
	releaseOn      string      // the file whose creation lets the held write through
	armed          atomic.Bool // a CreateItem has been held already
	logMu          sync.Mutex
}

func (g *gate) log(line string) {
	g.logMu.Lock()
	defer g.logMu.Unlock()
	f, err := os.OpenFile(g.sock+".log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err == nil {
		fmt.Fprintln(f, line)
		f.Close()
	}
}

// serve relays one movitera connection to the bus.
func (g *gate) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("unix", g.upstream)
	if err != nil {
		g.log("dial: " + err.Error())
		return
	}
	defer up.Close()

	var heldSerial atomic.Uint32 // the held write's serial; 0 when none
	landed := make(chan struct{})
	go func() { // bus → movitera, which may be gone: write errors are ignored
		br := bufio.NewReader(up)
		for {
			m, err := readFromBus(br)
			if err != nil {
				return
			}
			if s := heldSerial.Load(); s != 0 && isReplyTo(m, s) {
				os.WriteFile(g.sock+".landed", nil, 0o600)
				close(landed)
				heldSerial.Store(0)
			}
			c.Write(m)
		}
	}()

	cr := bufio.NewReader(c)
	if err := relayAuth(cr, up); err != nil {
		return
	}
	var mu sync.Mutex // guards held and the writes to the bus
	var held [][]byte // nil when nothing is held
	send := func(m []byte) {
		if member, _ := headerFields(m); member != "" {
			g.log(member)
		}
		up.Write(m)
	}
	release := func() {
		mu.Lock()
		defer mu.Unlock()
		if held != nil {
			g.log("release")
		}
		for _, h := range held {
			send(h)
		}
		held = nil
	}
	closed := make(chan struct{})
	for {
		m, err := readMessage(cr)
		if err != nil {
			break // movitera closed the connection
		}
		member, _ := headerFields(m)
		mu.Lock()
		switch {
		case held != nil:
			if member != "" {
				g.log("held " + member)
			}
			held = append(held, m)
		case member == "CreateItem" && m[1] == 1 && g.armed.CompareAndSwap(false, true):
			g.log("hold CreateItem")
			heldSerial.Store(order(m).Uint32(m[8:12]))
			held = [][]byte{m}
			if g.releaseOn != "" {
				go g.releaseWhenFile(closed, release)
			}
		default:
			send(m)
		}
		mu.Unlock()
	}
	close(closed)
	release()
	if heldSerial.Load() != 0 {
		select { // the bus's answer, then the connection may close
		case <-landed:
		case <-time.After(30 * time.Second):
		}
	}
}

// releaseWhenFile calls release once g.releaseOn exists; it stops looking
// when done is closed.
func (g *gate) releaseWhenFile(done <-chan struct{}, release func()) {
	for {
		if _, err := os.Stat(g.releaseOn); err == nil {
			release()
			return
		}
		select {
		case <-done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// busSocket returns the socket of a D-Bus address: unix:path=… or
// unix:abstract=….
func busSocket(addr string) (string, error) {
	for _, kv := range strings.Split(strings.TrimPrefix(addr, "unix:"), ",") {
		if p, ok := strings.CutPrefix(kv, "path="); ok {
			return p, nil
		}
		if p, ok := strings.CutPrefix(kv, "abstract="); ok {
			return "@" + p, nil
		}
	}
	return "", fmt.Errorf("not a unix socket address: %q", addr)
}

// relayAuth passes the client's side of the D-Bus handshake on: a NUL byte,
// then text lines up to BEGIN.
func relayAuth(r *bufio.Reader, w io.Writer) error {
	b, err := r.ReadByte()
	if err != nil {
		return err
	}
	w.Write([]byte{b})
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return err
		}
		w.Write(line)
		if strings.HasPrefix(string(line), "BEGIN") {
			return nil
		}
	}
}

// readFromBus reads a handshake line or, once messages flow, a message.
func readFromBus(r *bufio.Reader) ([]byte, error) {
	b, err := r.Peek(1)
	if err != nil {
		return nil, err
	}
	if b[0] == 'l' || b[0] == 'B' {
		return readMessage(r)
	}
	return r.ReadBytes('\n')
}

func order(m []byte) binary.ByteOrder {
	if m[0] == 'B' {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func align(n, a int) int { return (n + a - 1) / a * a }

// readMessage reads one D-Bus message: fixed header, header fields padded
// to 8 bytes, body.
func readMessage(r *bufio.Reader) ([]byte, error) {
	head := make([]byte, 16)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	o := order(head)
	size := 16 + align(int(o.Uint32(head[12:16])), 8) + int(o.Uint32(head[4:8]))
	if size > 64<<20 {
		return nil, errors.New("message too large")
	}
	m := make([]byte, size)
	copy(m, head)
	_, err := io.ReadFull(r, m[16:])
	return m, err
}

// headerFields returns a message's member name and reply serial.
func headerFields(m []byte) (member string, replySerial uint32) {
	o := order(m)
	end := 16 + int(o.Uint32(m[12:16]))
	for p := 16; ; {
		p = align(p, 8)
		if p+2 > end {
			return
		}
		code, sigLen := m[p], int(m[p+1])
		sig := string(m[p+2 : p+2+sigLen])
		p += 3 + sigLen
		switch sig {
		case "s", "o":
			p = align(p, 4)
			n := int(o.Uint32(m[p:]))
			if code == 3 {
				member = string(m[p+4 : p+4+n])
			}
			p += 5 + n
		case "g":
			p += 2 + int(m[p])
		case "u":
			p = align(p, 4)
			if code == 5 {
				replySerial = o.Uint32(m[p:])
			}
			p += 4
		default:
			return
		}
	}
}

// isReplyTo reports whether m answers (method return or error) the call
// with that serial.
func isReplyTo(m []byte, serial uint32) bool {
	if len(m) < 16 || (m[1] != 2 && m[1] != 3) {
		return false
	}
	_, rs := headerFields(m)
	return rs == serial
}
