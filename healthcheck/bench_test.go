//go:build bench

package healthcheck

// The health-check benchmark: HTTP checks every second against N real
// servers on loopback, at N = 1,000 and 5,000. Run it with
//
//	go test -tags bench -run '^TestBenchHealthcheck$' -v -count=1 -timeout 10m ./healthcheck/
//
// The servers run in a child process (this test binary again, as
// TestBenchServerProcess), one listener per address 127.0.1.1, 127.0.1.2,
// … on port 8080, so that this process's CPU time and memory are the
// monitor's alone.

import (
	"bufio"
	"context"
	"fmt"
	"github.com/lvsd/lvsd/test/benchtab"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	benchServeEnv = "LVSD_BENCH_SERVE" // set in the child: how many servers
	benchPort     = 8080
	benchInterval = time.Second
	benchTimeout  = 500 * time.Millisecond
	benchRise     = 2
	benchFall     = 3
	benchWindow   = 10 * time.Second // of CPU measurement
	benchFailures = 40               // servers failed per run: half closed, half hung
)

// benchAddr is the i-th server's address: 127.0.1.1 … 127.0.1.254,
// 127.0.2.1 …, all on lo without configuration.
func benchAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 0, byte(1 + i/254), byte(1 + i%254)})
}

type benchRow struct {
	n                int
	checksPerSec     float64
	cpu, serverCPU   float64 // CPU seconds per wall second
	rssKiB           int
	heapMiB          float64
	goroutines       int
	spurious         int // transitions of servers that were not failed
	closedLat, hungL []time.Duration
}

func TestBenchHealthcheck(t *testing.T) {
	if os.Getenv(benchServeEnv) != "" {
		t.Skip("in the server process")
	}
	sizes := []int{1000, 5000}
	if v := os.Getenv("LVSD_BENCH_N"); v != "" { // one size, e.g. while tuning
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 254*254 {
			t.Fatalf("LVSD_BENCH_N=%q: want a count of servers", v)
		}
		sizes = []int{n}
	}
	loadAvg := loadAverage()
	var rows []benchRow
	for _, n := range sizes {
		rows = append(rows, benchRun(t, n))
	}
	bound := benchFall*benchInterval + benchTimeout
	fmt.Printf("\nhealth checks: HTTP GET /healthz (status 200, body_regex) every %v, timeout %v, rise %d, fall %d\n",
		benchInterval, benchTimeout, benchRise, benchFall)
	fmt.Printf("%d CPUs, GOMAXPROCS %d, load average %s before, %s after; CPU is %% of one CPU\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), loadAvg, loadAverage())
	fmt.Printf("failure → down event, bound fall×interval + timeout = %v; %d failures per run: half listener closed, half hung\n\n", bound, benchFailures)
	fmt.Printf("%6s %9s %11s %9s %11s %9s %8s %8s | %-27s | %-27s\n",
		"N", "checks/s", "monitor CPU", "per check", "servers CPU", "peak RSS", "heap", "spurious",
		"closed: mean   max  max/bound", "hung:   mean   max  max/bound")
	for _, r := range rows {
		fmt.Printf("%6d %9.0f %10.1f%% %9s %10.1f%% %5d MiB %4.0f MiB %8d | %s | %s\n",
			r.n, r.checksPerSec, 100*r.cpu, time.Duration(r.cpu/r.checksPerSec*float64(time.Second)).Round(time.Microsecond),
			100*r.serverCPU, r.rssKiB/1024, r.heapMiB, r.spurious,
			latencies(r.closedLat, bound), latencies(r.hungL, bound))
	}
	fmt.Println()

	var out []benchtab.Row
	for _, r := range rows {
		area := "health checks"
		what := func(s string) string { return fmt.Sprintf("%s, %d servers, HTTP every %v", s, r.n, benchInterval) }
		out = append(out,
			benchtab.Row{Area: area, Measure: what("checker CPU (% of a core)"), Lvsd: fmt.Sprintf("%.1f%%", 100*r.cpu),
				Reference: "the servers answering", RefValue: fmt.Sprintf("%.1f%%", 100*r.serverCPU), Ratio: r.cpu / r.serverCPU},
			benchtab.Row{Area: area, Measure: what("peak RSS"), Lvsd: fmt.Sprintf("%d MiB", r.rssKiB/1024),
				Reference: "per server", RefValue: fmt.Sprintf("%.1f KiB", float64(r.rssKiB)/float64(r.n))})
		for _, l := range []struct {
			kind string
			ds   []time.Duration
		}{{"listener closed", r.closedLat}, {"server hung", r.hungL}} {
			if len(l.ds) == 0 {
				continue
			}
			worst := slices.Max(l.ds)
			out = append(out, benchtab.Row{Area: area, Measure: what(fmt.Sprintf("failure to down, %s, worst of %d", l.kind, len(l.ds))),
				Lvsd: benchtab.Ms(worst), Reference: "fall×interval+timeout", RefValue: benchtab.Ms(bound), Ratio: benchtab.Ratio(worst, bound)})
		}
	}
	if err := benchtab.Add(out...); err != nil {
		t.Error(err)
	}
}

func latencies(ds []time.Duration, bound time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	mean, worst := sum/time.Duration(len(ds)), slices.Max(ds)
	return fmt.Sprintf("%11.2fs %5.2fs %10.2f", mean.Seconds(), worst.Seconds(), float64(worst)/float64(bound))
}

// loadAverage is the 1-minute load average: the benchmark shares the
// machine, and its CPU figures mean little when the machine is busy.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func benchRun(t *testing.T, n int) benchRow {
	srv := startBenchServers(t, n)
	defer srv.stop()
	runtime.GC()
	resetPeakRSS(t)

	var (
		mu    sync.Mutex
		ups   int
		downs = map[Key]time.Time{} // the first down event of each server
		flaps int                   // every down event but those
	)
	ctx, cancel := context.WithCancel(t.Context())
	m := NewMonitor(ctx, func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.State == Up {
			ups++
			return
		}
		if _, ok := downs[ev.Key]; ok {
			flaps++
			return
		}
		downs[ev.Key] = time.Now()
	})
	cfg := Config{
		Kind: HTTP, Interval: benchInterval, Timeout: benchTimeout, Rise: benchRise, Fall: benchFall, Port: benchPort,
		HTTP: HTTPCheck{Method: "GET", Path: "/healthz", Status: []int{200}, BodyRegex: regexp.MustCompile(`^ok`)},
	}
	for i := range n {
		tg, err := NewTarget(benchKey(i), benchAddr(i), cfg, nil, Down)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Add(tg); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { cancel(); m.Wait() }()

	// All up: in one interval of spread plus rise checks on an idle
	// machine; a busy one, where starved checks time out, takes longer.
	waitFor(t, fmt.Sprintf("%d servers up", n), 30*benchInterval, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return ups-len(downs) == n
	}, m)
	time.Sleep(2 * benchInterval) // settle: heap grown, every loop in its phase
	mu.Lock()
	clear(downs)
	ups, flaps = 0, 0
	mu.Unlock()

	checks0, cpu0, srv0, wall0 := totalChecks(m), selfCPU(t), srv.cpu(t), time.Now()
	time.Sleep(benchWindow)
	checks1, cpu1, srv1, wall1 := totalChecks(m), selfCPU(t), srv.cpu(t), time.Now()
	if os.Getenv("LVSD_BENCH_DEBUG") != "" {
		hist := map[uint64]int{}
		for _, st := range m.Snapshot() {
			hist[st.Checks]++
		}
		t.Logf("checks per target: %v; %s", hist, summary(m))
	}
	wall := wall1.Sub(wall0).Seconds()

	// Fail servers spread over the range, alternately by closing the
	// listener (connection refused at once) and by hanging every request
	// (each check then costs the full timeout).
	failed := map[Key]time.Time{}
	var closed, hung []Key
	for k := range benchFailures {
		i := k * n / benchFailures
		verb := "close"
		if k%2 == 1 {
			verb = "hang"
		}
		failed[benchKey(i)] = time.Now() // before the command: errs towards a longer latency
		srv.command(t, verb, i)
		if verb == "close" {
			closed = append(closed, benchKey(i))
		} else {
			hung = append(hung, benchKey(i))
		}
	}
	waitFor(t, "failed servers down", 3*(benchFall*benchInterval+benchTimeout), func() bool {
		mu.Lock()
		defer mu.Unlock()
		for k := range failed {
			if _, ok := downs[k]; !ok {
				return false
			}
		}
		return true
	}, m)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	row := benchRow{
		n:            n,
		checksPerSec: float64(checks1-checks0) / wall,
		cpu:          (cpu1 - cpu0).Seconds() / wall,
		serverCPU:    (srv1 - srv0).Seconds() / wall,
		rssKiB:       peakRSSKiB(t),
		heapMiB:      float64(ms.HeapInuse) / (1 << 20),
		goroutines:   runtime.NumGoroutine(),
	}
	mu.Lock()
	for _, k := range closed {
		row.closedLat = append(row.closedLat, downs[k].Sub(failed[k]))
	}
	for _, k := range hung {
		row.hungL = append(row.hungL, downs[k].Sub(failed[k]))
	}
	// Servers not failed that went down (and up) during the measurement:
	// checks starved of CPU past their timeout.
	row.spurious = len(downs) - len(failed) + flaps + ups
	mu.Unlock()
	return row
}

func benchKey(i int) Key { return Key(fmt.Sprintf("bench/%s:%d", benchAddr(i), benchPort)) }

// summary counts the targets by state and last reason, for a failure message.
func summary(m *Monitor) string {
	counts := map[string]int{}
	for _, st := range m.Snapshot() {
		counts[st.State.String()+": "+st.Last.Reason]++
	}
	var parts []string
	for k, v := range counts {
		parts = append(parts, fmt.Sprintf("%d × %s", v, k))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

func totalChecks(m *Monitor) uint64 {
	var n uint64
	for _, st := range m.Snapshot() {
		n += st.Checks
	}
	return n
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool, m *Monitor) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v; %s", what, limit, summary(m))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// selfCPU is this process's user and system time.
func selfCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets VmHWM (Linux ≥ 4.0), so each run reports its own peak.
func resetPeakRSS(t *testing.T) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("peak RSS not reset (%v): figures are the process's peak so far", err)
	}
}

func peakRSSKiB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kib
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// benchServers is the child process serving the real servers.
type benchServers struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

func startBenchServers(t *testing.T, n int) *benchServers {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), benchServeEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &benchServers{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	if line := s.reply(t); line != "ready" {
		s.stop()
		t.Fatalf("server process: %q, want ready", line)
	}
	return s
}

func (s *benchServers) reply(t *testing.T) string {
	if !s.out.Scan() {
		t.Fatalf("server process ended: %v", s.out.Err())
	}
	return s.out.Text()
}

func (s *benchServers) command(t *testing.T, verb string, i int) {
	fmt.Fprintf(s.stdin, "%s %d\n", verb, i)
	if line := s.reply(t); line != "ok" {
		t.Fatalf("server process: %s %d: %q", verb, i, line)
	}
}

// cpu is the child's user and system time, from /proc/PID/stat (fields 14
// and 15, in clock ticks of 1/100 s on Linux).
func (s *benchServers) cpu(t *testing.T) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func (s *benchServers) stop() {
	s.stdin.Close() // the child exits at EOF
	_ = s.cmd.Wait()
}

// TestBenchServerProcess is the child: N HTTP servers, one listener per
// address, answering "ok". It reads commands from stdin: "close I" closes
// server I's listener, "hang I" makes it hold every request until the
// client gives up. It exits at EOF.
func TestBenchServerProcess(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(benchServeEnv))
	if n == 0 {
		t.Skip("the server process of TestBenchHealthcheck")
	}
	hung := make([]atomic.Bool, n)
	index := make(map[netip.Addr]int, n)
	for i := range n {
		index[benchAddr(i)] = i
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			local, _ := netip.ParseAddrPort(r.Context().Value(http.LocalAddrContextKey).(net.Addr).String())
			if i, ok := index[local.Addr()]; ok && hung[i].Load() {
				<-r.Context().Done()
				return
			}
			io.WriteString(w, "ok\n")
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	srv.SetKeepAlivesEnabled(false)
	lns := make([]net.Listener, n)
	for i := range n {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(benchAddr(i), benchPort).String())
		if err != nil {
			fmt.Printf("listen: %v\n", err)
			return
		}
		lns[i] = ln
		go srv.Serve(ln)
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var (
			verb string
			i    int
		)
		if _, err := fmt.Sscanf(in.Text(), "%s %d", &verb, &i); err != nil || i < 0 || i >= n {
			fmt.Printf("bad command %q\n", in.Text())
			continue
		}
		switch verb {
		case "close":
			lns[i].Close()
		case "hang":
			hung[i].Store(true)
		}
		fmt.Println("ok")
	}
	srv.Close()
}
