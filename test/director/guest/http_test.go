//go:build vmguest

package guest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
)

// serveHTTP runs an HTTP server named name in h on addr: "/" answers the
// name, "/healthz" answers ok, "/stream" writes a numbered line every
// interval until the client goes away. It returns a stop function that
// closes the listener (the server stops answering new connections).
func serveHTTP(t *testing.T, h *lab.Host, addr netip.AddrPort, name string) (stop func()) {
	t.Helper()
	var l net.Listener
	err := h.Do(func() error {
		var err error
		l, err = net.Listen("tcp", addr.String())
		return err
	})
	if err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, h.Name(), err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		f := w.(http.Flusher)
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "%s %d\n", name, i); err != nil {
				return
			}
			f.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(streamEvery):
			}
		}
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	var once sync.Once
	stop = func() { once.Do(func() { srv.Close() }) }
	t.Cleanup(stop)
	return stop
}

// get sends one HTTP request from h to addr on a fresh connection (dialled
// inside h's namespace) and returns the body.
func get(h *lab.Host, addr netip.AddrPort, path string) (string, error) {
	var c net.Conn
	err := h.Do(func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr.String(), 2*time.Second)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr.Addr())
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// streamEvery is how often /stream writes a line.
const streamEvery = 50 * time.Millisecond

// stream is a long-lived HTTP connection reading /stream line by line:
// it records every line's number and the longest gap between lines.
type stream struct {
	mu      sync.Mutex
	server  string
	next    int
	lines   int
	gaps    []time.Duration
	last    time.Time
	err     error
	missing int // numbers skipped or repeated: bytes lost or duplicated
	done    chan struct{}
	conn    net.Conn
}

func openStream(t *testing.T, h *lab.Host, addr netip.AddrPort) *stream {
	t.Helper()
	var c net.Conn
	err := h.Do(func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr.String(), 2*time.Second)
		return err
	})
	if err != nil {
		t.Fatalf("stream to %s: %v", addr, err)
	}
	fmt.Fprintf(c, "GET /stream HTTP/1.1\r\nHost: %s\r\n\r\n", addr.Addr())
	s := &stream{done: make(chan struct{}), conn: c, last: time.Now()}
	go s.read(bufio.NewReader(c))
	t.Cleanup(func() { c.Close(); <-s.done })
	return s
}

func (s *stream) read(r *bufio.Reader) {
	defer close(s.done)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		s.fail(err)
		return
	}
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			s.fail(err)
			return
		}
		var name string
		var n int
		if _, err := fmt.Sscanf(line, "%s %d", &name, &n); err != nil {
			s.fail(fmt.Errorf("garbled line %q", line))
			return
		}
		now := time.Now()
		s.mu.Lock()
		if s.server == "" {
			s.server, s.next = name, n
		}
		if name != s.server || n != s.next {
			s.missing++
		}
		s.next = n + 1
		s.lines++
		s.gaps = append(s.gaps, now.Sub(s.last))
		s.last = now
		s.mu.Unlock()
	}
}

func (s *stream) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// lastLine is when the last line arrived.
func (s *stream) lastLine() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// snapshot returns lines read, the longest gap, lines lost or duplicated,
// and the error that ended the stream (nil while it runs).
func (s *stream) snapshot() (lines int, longest time.Duration, missing int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.gaps {
		longest = max(longest, g)
	}
	return s.lines, longest, s.missing, s.err
}

// combined runs cmd in h and returns its output.
func combined(h *lab.Host, cmd *exec.Cmd) (string, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := h.Run(cmd)
	return out.String(), err
}
