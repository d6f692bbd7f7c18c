package daemon

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// emfileListener fails its first accepts with EMFILE, as accept(2) does
// when the daemon is out of descriptors.
type emfileListener struct {
	net.Listener
	emfile atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.emfile.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// startHTTP serves a handler answering "ok" on a loopback port behind a
// capListener with lim, the first emfile accepts failing.
func startHTTP(t *testing.T, lim httpLimits, emfile int32) (*capListener, string) {
	t.Helper()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &emfileListener{Listener: tcp}
	fl.emfile.Store(emfile)
	capped := newCapListener(fl, lim.maxConns, quiet)
	ctx, cancel := context.WithCancel(t.Context())
	g := &errgroup.Group{}
	serveHTTP(ctx, g, capped, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), lim, quiet)
	t.Cleanup(func() { cancel(); g.Wait() })
	return capped, tcp.Addr().String()
}

// dial opens a connection that gives up after 10 s whatever happens.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// get sends one keep-alive GET on c and reads its answer.
func get(c net.Conn, r *bufio.Reader) error {
	if _, err := io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: lvsd\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && (resp.StatusCode != 200 || string(body) != "ok") {
		err = errors.New(resp.Status + ": " + string(body))
	}
	return err
}

// closedByServer reads c until the server closes it: EOF, not our own
// 10 s deadline.
func closedByServer(r io.Reader) bool {
	_, err := io.Copy(io.Discard, r)
	return err == nil
}

var testHTTPLimits = httpLimits{maxConns: 2, readHeader: time.Minute, read: time.Minute, write: time.Minute, idle: time.Minute}

// net/http's accept loop retries after EMFILE, through capListener.
func TestMetricsServerRetriesAcceptOnEMFILE(t *testing.T) {
	_, addr := startHTTP(t, testHTTPLimits, 5)
	c := dial(t, addr)
	if err := get(c, bufio.NewReader(c)); err != nil {
		t.Fatalf("GET after 5 EMFILEs: %v", err)
	}
}

// A kept-alive connection is closed after its idle timeout, and a new
// one that sends nothing after the header timeout.
func TestMetricsServerClosesIdleConnections(t *testing.T) {
	lim := testHTTPLimits
	lim.idle, lim.readHeader = 50*time.Millisecond, 50*time.Millisecond
	_, addr := startHTTP(t, lim, 0)
	kept := dial(t, addr)
	r := bufio.NewReader(kept)
	if err := get(kept, r); err != nil {
		t.Fatal(err)
	}
	if !closedByServer(r) {
		t.Error("a kept-alive connection outlived its idle timeout")
	}
	silent := dial(t, addr)
	if !closedByServer(silent) {
		t.Error("a connection that sent nothing outlived the header timeout")
	}
}

// Over the cap a connection is closed at once and counted; a freed slot
// serves again.
func TestMetricsServerCapsConnections(t *testing.T) {
	capped, addr := startHTTP(t, testHTTPLimits, 0)
	first := dial(t, addr)
	firstR := bufio.NewReader(first)
	if err := get(first, firstR); err != nil {
		t.Fatal(err)
	}
	dial(t, addr) // idle, holds the second slot
	over := dial(t, addr)
	if !closedByServer(over) {
		t.Fatal("a connection over the cap was kept")
	}
	if open, refused := capped.counts(); open != 2 || refused != 1 {
		t.Errorf("open %d, refused %d; want 2, 1", open, refused)
	}
	if err := get(first, firstR); err != nil {
		t.Errorf("a connection under the cap no longer answers: %v", err)
	}
	first.Close()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if open, _ := capped.counts(); open < 2 {
			break // the server saw the close
		}
		if time.Now().After(end) {
			t.Fatal("a closed connection kept its slot")
		}
	}
	c := dial(t, addr)
	if err := get(c, bufio.NewReader(c)); err != nil {
		t.Errorf("GET once a slot was freed: %v", err)
	}
}
