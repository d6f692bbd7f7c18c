//go:build lab

package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
)

// The daemon's bounds (internal/daemon/http.go, internal/control): what
// a flood of idle connections may hold of it.
const (
	metricsAddr     = "127.0.0.1:9560"
	metricsMaxConns = 64
	headerTimeout   = 5 * time.Second // metrics: a new connection's request headers
	controlMaxConns = 32
	requestWait     = 5 * time.Second // control: a connection's request line
	fdSlack         = 8               // the status or scrape connection itself, and the runtime's own
)

// boundsDaemon is lvsd alone on a segment with metrics on loopback, master.
func boundsDaemon(t *testing.T) (*lab.Host, *lvsdtest.Daemon) {
	t.Helper()
	l := lab.New(t)
	h := l.Host("dir-a")
	h.Connect(l.Network("lan"), dirAIP)
	d := lvsdtest.Start(t, h, "global {\n  metrics_listen = \""+metricsAddr+"\"\n}\n"+instanceHCL(150, ""))
	d.WaitState("MASTER", 5*time.Second)
	return h, d
}

// openFDs counts the descriptors the process holds.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// idleConns opens n connections and sends nothing on them; they are
// closed at the test's end.
func idleConns(t *testing.T, n int, dial func() (net.Conn, error)) {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := dial()
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
}

func dialMetrics(h *lab.Host) func() (net.Conn, error) {
	return func() (c net.Conn, err error) {
		err = h.Do(func() error {
			c, err = net.DialTimeout("tcp", metricsAddr, time.Second)
			return err
		})
		return c, err
	}
}

// scrape GETs /metrics from inside h, as Prometheus does.
func scrape(h *lab.Host) (string, error) {
	c, err := dialMetrics(h)()
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: lvsd\r\nConnection: close\r\n\r\n"); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("/metrics: %s", resp.Status)
	}
	return string(body), err
}

// status runs `lvsd status` and returns how long it took.
func status(t *testing.T, d *lvsdtest.Daemon, what string) time.Duration {
	t.Helper()
	start := time.Now()
	out, err := d.CLI("status")
	took := time.Since(start)
	if err != nil || !strings.Contains(out, "MASTER") {
		t.Fatalf("lvsd status %s: %v after %s\n%s", what, err, took, out)
	}
	return took
}

// 2,000 idle connections to metrics_listen (finding 1 of issue 10): lvsd
// holds at most the cap of them, the control socket answers meanwhile,
// and /metrics answers again once the held ones reach their header
// timeout.
func TestBoundsMetricsFlood(t *testing.T) {
	h, d := boundsDaemon(t)
	base := openFDs(t, d.Pid())
	idleConns(t, 2000, dialMetrics(h))
	flooded := time.Now()
	took := status(t, d, "with 2,000 idle metrics connections")
	held := openFDs(t, d.Pid())
	t.Logf("fds: %d before, %d with 2,000 idle metrics connections (cap %d); lvsd status took %s",
		base, held, metricsMaxConns, took.Round(time.Millisecond))
	if held > base+metricsMaxConns+fdSlack {
		t.Errorf("lvsd holds %d fds with the flood, %d before: more than the cap of %d", held, base, metricsMaxConns)
	}
	var body string
	lvsdtest.WaitFor(t, headerTimeout+slack, "/metrics answers once the held connections time out", func() bool {
		var err error
		body, err = scrape(h)
		return err == nil
	})
	t.Logf("/metrics answered %s after the flood", time.Since(flooded).Round(time.Millisecond))
	refused := metricValue(body, "lvsd_metrics_connections_refused_total")
	if refused < 2000-metricsMaxConns {
		t.Errorf("lvsd_metrics_connections_refused_total %v; want at least %d", refused, 2000-metricsMaxConns)
	}
	// Every held connection was accepted during the flood: all are
	// closed by its end plus the header timeout.
	lvsdtest.WaitFor(t, time.Until(flooded.Add(headerTimeout+slack)), "the held metrics connections are closed", func() bool {
		return openFDs(t, d.Pid()) <= base+fdSlack/2
	})
	t.Logf("fds back to %d %s after the flood; refused connections counted: %v",
		openFDs(t, d.Pid()), time.Since(flooded).Round(time.Millisecond), refused)
}

// 1,000 idle connections to the control socket: lvsd holds at most its
// cap of them, evicting the oldest idle one for each new one, so
// `lvsd status` answers at once.
func TestBoundsControlFlood(t *testing.T) {
	_, d := boundsDaemon(t)
	base := openFDs(t, d.Pid())
	idleConns(t, 1000, func() (net.Conn, error) { return net.DialTimeout("unix", d.Socket, time.Second) })
	took := status(t, d, "with 1,000 idle control connections")
	held := openFDs(t, d.Pid())
	t.Logf("fds: %d before, %d with 1,000 idle control connections (cap %d); lvsd status took %s",
		base, held, controlMaxConns, took.Round(time.Millisecond))
	if held > base+controlMaxConns+fdSlack {
		t.Errorf("lvsd holds %d fds with the flood, %d before: more than the cap of %d", held, base, controlMaxConns)
	}
	if took > time.Second {
		t.Errorf("lvsd status took %s with idle connections holding the cap", took)
	}
	lvsdtest.WaitFor(t, requestWait+slack, "the idle control connections are closed", func() bool {
		return openFDs(t, d.Pid()) <= base+fdSlack/2
	})
}

// Out of descriptors (RLIMIT_NOFILE lowered, then filled by idle metrics
// connections), accept fails with EMFILE on both listeners: the control
// socket retries and answers once the metrics connections time out and
// free their descriptors. Before, its accept loop ended on the first
// EMFILE and lvsd never answered again.
func TestBoundsControlSurvivesEMFILE(t *testing.T) {
	h, d := boundsDaemon(t)
	base := openFDs(t, d.Pid())
	limit := uint64(base + 20) // below the metrics cap: EMFILE comes first
	if err := unix.Prlimit(d.Pid(), unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: limit, Max: limit}, nil); err != nil {
		t.Fatal(err)
	}
	idleConns(t, 30, dialMetrics(h)) // 20 held, 10 waiting in the listen backlog
	flooded := time.Now()
	if n := openFDs(t, d.Pid()); n < int(limit) {
		t.Fatalf("lvsd holds %d fds, limit %d: the flood did not exhaust them", n, limit)
	}
	// `lvsd status` connects at once (the kernel's backlog) and is answered
	// once accept works again: after the header timeout, within the 1 s
	// backoff.
	took := status(t, d, "after EMFILE")
	t.Logf("fds: %d before, limit %d; lvsd status answered %s after the flood (took %s)",
		base, limit, time.Since(flooded).Round(time.Millisecond), took.Round(time.Millisecond))
	if bound := headerTimeout + time.Second + slack; time.Since(flooded) > bound {
		t.Errorf("lvsd status answered %s after the flood; want within %s", time.Since(flooded), bound)
	}
	if !strings.Contains(d.Output(), "accept failed; retrying") {
		t.Error("lvsd did not log the failed accepts")
	}
	if _, err := scrape(h); err != nil {
		t.Errorf("/metrics after the flood: %v", err)
	}
}

// metricValue is the value of an unlabelled sample in a scrape, -1 when
// absent.
func metricValue(body, name string) float64 {
	for line := range strings.Lines(body) {
		var v float64
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v
			}
		}
	}
	return -1
}
