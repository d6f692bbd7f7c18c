//go:build vmguest

package guest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
)

// daemon is lvsd running in a lab host of the guest.
type daemon struct {
	t      *testing.T
	host   *lab.Host
	cmd    *syncCmd
	socket string
	config string
}

type syncCmd struct {
	mu   sync.Mutex
	out  bytes.Buffer
	proc *os.Process
	done chan struct{}
}

func (s *syncCmd) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

func (s *syncCmd) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// startLvsd runs lvsd in h with body as its configuration.
func startLvsd(t *testing.T, h *lab.Host, body string) *daemon {
	t.Helper()
	dir := t.TempDir()
	d := &daemon{t: t, host: h, socket: filepath.Join(dir, "lvsd.sock"), config: filepath.Join(dir, "lvsd.hcl")}
	// The control socket goes into the file's global block, or a new one.
	ours := fmt.Sprintf("  router_id = %q\n  control_socket = %q\n  log_level = \"debug\"\n", h.Name(), d.socket)
	cfg := "global {\n" + ours + "}\n" + body
	if strings.Contains(body, "global {\n") {
		cfg = strings.Replace(body, "global {\n", "global {\n"+ours, 1)
	}
	if err := os.WriteFile(d.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d.start()
	return d
}

func (d *daemon) start() {
	t := d.t
	t.Helper()
	cmd := d.host.Command(context.Background(), lvsdBin, "run", "-c", d.config)
	sc := &syncCmd{done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = sc, sc
	if err := d.host.Start(cmd); err != nil {
		t.Fatal(err)
	}
	sc.proc = cmd.Process
	go func() { cmd.Wait(); close(sc.done) }()
	d.cmd = sc
	t.Cleanup(func() {
		sc.proc.Signal(syscall.SIGKILL)
		<-sc.done
		if t.Failed() {
			t.Logf("--- lvsd on %s:\n%s", d.host.Name(), sc.String())
		}
	})
	waitFor(t, 10*time.Second, "lvsd on "+d.host.Name()+" answers", func() bool {
		select {
		case <-sc.done:
			t.Fatalf("lvsd on %s exited:\n%s", d.host.Name(), sc.String())
		default:
		}
		_, err := d.status()
		return err == nil
	})
}

// kill SIGKILLs lvsd; restart starts it again on the same configuration.
func (d *daemon) kill() {
	d.cmd.proc.Signal(syscall.SIGKILL)
	<-d.cmd.done
}

func (d *daemon) restart() { d.start() }

// status is the daemon's `lvsd status --json`, decoded loosely.
func (d *daemon) status() (map[string]any, error) {
	c, err := net.DialTimeout("unix", d.socket, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintln(c, `{"command":"status"}`)
	var reply struct {
		OK     bool           `json:"ok"`
		Error  string         `json:"error"`
		Status map[string]any `json:"status"`
	}
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		return nil, err
	}
	if !reply.OK {
		return nil, fmt.Errorf("%s", reply.Error)
	}
	return reply.Status, nil
}

// state is the state of the daemon's first VRRP instance.
func (d *daemon) state() string {
	s, err := d.status()
	if err != nil {
		return ""
	}
	ins, _ := s["instances"].([]any)
	if len(ins) == 0 {
		return ""
	}
	st, _ := ins[0].(map[string]any)["state"].(string)
	return st
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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

// ipvsadm runs ipvsadm in h and returns its output.
func ipvsadm(t *testing.T, h *lab.Host, args ...string) string {
	t.Helper()
	cmd := h.Command(context.Background(), "/usr/sbin/ipvsadm", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := h.Run(cmd); err != nil {
		t.Fatalf("ipvsadm %v in %s: %v\n%s", args, h.Name(), err, out.String())
	}
	return out.String()
}

// ipvsTable is `ipvsadm -Ln` reduced to comparable lines: one per service
// ("TCP 192.0.2.100:80 wrr") and one per destination under it
// ("-> 192.0.2.21:80 Route 3").
func ipvsTable(t *testing.T, h *lab.Host) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(ipvsadm(t, h, "-Ln"), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && (f[0] == "TCP" || f[0] == "UDP" || f[0] == "SCTP" || f[0] == "FWM"):
			out = append(out, strings.Join(f[:3], " ")+flagsOf(f[3:]))
		case len(f) >= 4 && f[0] == "->" && f[1] != "RemoteAddress:Port":
			out = append(out, strings.Join(f[:4], " "))
		}
	}
	return out
}

// flagsOf keeps the persistence and scheduler flags of a service line.
func flagsOf(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return " " + strings.Join(f, " ")
}

// combined runs cmd in h and returns its output.
func combined(h *lab.Host, cmd *exec.Cmd) (string, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := h.Run(cmd)
	return out.String(), err
}
