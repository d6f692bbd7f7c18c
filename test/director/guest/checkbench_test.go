//go:build vmguest

package guest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
)

// keepalivedBin is copied into the guest by the host test, from the host
// (test/setup.sh installs keepalived, the lab's interop peer).
const keepalivedBin = "/usr/sbin/keepalived"

// TestBenchCheckCPU runs the same HTTP health checks (n real servers, one
// check each per second) from lvsd and from keepalived's checker, one
// after the other, on the same kernel and against the same server, and
// prints the CPU each spent in a steady window, its peak memory, and the
// checks the server answered (both must do the same work).
func TestBenchCheckCPU(t *testing.T) {
	const (
		n      = 100
		warmup = 3 * time.Second
		window = 15 * time.Second
	)
	l := lab.New(t)
	dir := l.Host("dir")
	dir.Connect(l.Network("lan"), mustPrefix("203.0.113.11/24"))
	loopbackUp(t, dir)
	var hits atomic.Int64
	serveCounting(t, dir, &hits)
	servers := make([]string, n)
	for i := range servers {
		servers[i] = fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250)
	}

	// lvsd
	var b strings.Builder
	b.WriteString(`virtual_server "web" {
  address    = "203.0.113.100:80"
  forwarding = "nat"
  check "http" {
    path     = "/healthz"
    interval = "1s"
    timeout  = "500ms"
    rise     = 2
    fall     = 3
  }
`)
	for _, s := range servers {
		fmt.Fprintf(&b, "  real_server \"%s:8080\" {}\n", s)
	}
	b.WriteString("}\n")
	d := lvsdtest.Start(t, dir, b.String())
	lvsdtest.WaitFor(t, 30*time.Second, "lvsd's table holds every server", func() bool { return len(ipvsTable(t, dir)) == n+1 })
	lv := measure(t, d.Pid(), &hits, warmup, window)
	d.Kill()
	dir.Ipvsadm(t, "-C")

	// keepalived, checker only.
	b.Reset()
	b.WriteString("global_defs {\n  router_id bench\n}\nvirtual_server 203.0.113.100 80 {\n  delay_loop 1\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n")
	for _, s := range servers {
		fmt.Fprintf(&b, "  real_server %s 8080 {\n    weight 1\n    HTTP_GET {\n      url {\n        path /healthz\n        status_code 200\n      }\n      connect_timeout 1\n      retry 2\n      delay_before_retry 1\n    }\n  }\n", s)
	}
	b.WriteString("}\n")
	tmp := t.TempDir()
	conf := filepath.Join(tmp, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ka := lvsdtest.StartProcess(t, dir, "keepalived", keepalivedBin, "--dont-fork", "--log-console", "--no-syslog", "--check",
		"--use-file", conf, "--pid", filepath.Join(tmp, "k.pid"), "--checkers_pid", filepath.Join(tmp, "c.pid"))
	lvsdtest.WaitFor(t, 30*time.Second, "keepalived's table holds every server", func() bool { return len(ipvsTable(t, dir)) == n+1 })
	kaUse := measure(t, ka.Pid(), &hits, warmup, window)

	for _, m := range []struct {
		who string
		r   usage
	}{{"lvsd", lv}, {"keepalived", kaUse}} {
		if m.r.checksPerS < 0.9*n || m.r.checksPerS > 1.1*n {
			t.Errorf("%s answered %.0f checks/s for %d servers at 1s, want about %d", m.who, m.r.checksPerS, n, n)
		}
	}
	cs, _ := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
	t.Logf("clocksource %s", strings.TrimSpace(string(cs)))
	fmt.Printf("BENCH checkcpu servers=%d lvsd_cpu=%.1f%% lvsd_rss=%.1fMiB lvsd_checks=%.0f/s keepalived_cpu=%.1f%% keepalived_rss=%.1fMiB keepalived_checks=%.0f/s\n",
		n, lv.cpuPct, lv.peakMiB, lv.checksPerS, kaUse.cpuPct, kaUse.peakMiB, kaUse.checksPerS)
}

type usage struct {
	cpuPct     float64 // of one CPU, over the window
	peakMiB    float64 // VmHWM, summed over the process group
	checksPerS float64
}

// measure waits warmup, then reports the CPU of process group pgid over
// window, its peak resident memory, and the checks answered meanwhile.
func measure(t *testing.T, pgid int, hits *atomic.Int64, warmup, window time.Duration) usage {
	t.Helper()
	time.Sleep(warmup)
	c0, h0, t0 := groupTicks(t, pgid), hits.Load(), time.Now()
	time.Sleep(window)
	c1, h1, el := groupTicks(t, pgid), hits.Load(), time.Since(t0)
	const userHZ = 100 // USER_HZ on Linux
	return usage{
		cpuPct:     100 * float64(c1-c0) / userHZ / el.Seconds(),
		peakMiB:    float64(groupHWM(t, pgid)) / 1024,
		checksPerS: float64(h1-h0) / el.Seconds(),
	}
}

// groupProcs lists the pids of process group pgid with their stat fields
// after the command name.
func groupProcs(t *testing.T, pgid int) map[int][]string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	procs := map[int][]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 13 && f[2] == strconv.Itoa(pgid) { // f[0] state, f[1] ppid, f[2] pgrp
			procs[pid] = f
		}
	}
	if len(procs) == 0 {
		t.Fatalf("no process in group %d", pgid)
	}
	return procs
}

// groupTicks is the user+system CPU of the group's live processes.
func groupTicks(t *testing.T, pgid int) int64 {
	var sum int64
	for _, f := range groupProcs(t, pgid) {
		u, _ := strconv.ParseInt(f[11], 10, 64) // utime
		s, _ := strconv.ParseInt(f[12], 10, 64) // stime
		sum += u + s
	}
	return sum
}

// groupHWM sums the peak resident set (KiB) of the group's processes.
func groupHWM(t *testing.T, pgid int) int64 {
	var sum int64
	for pid := range groupProcs(t, pgid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				sum += kb
			}
		}
	}
	return sum
}

func loopbackUp(t *testing.T, h *lab.Host) {
	t.Helper()
	err := h.Do(func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(lo)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// serveCounting answers /healthz on every address of h at port 8080 and
// counts the requests.
func serveCounting(t *testing.T, h *lab.Host, hits *atomic.Int64) {
	t.Helper()
	var l net.Listener
	err := h.Do(func() error {
		var err error
		l, err = net.Listen("tcp4", "0.0.0.0:8080")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}
