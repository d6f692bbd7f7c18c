package soak

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lvsdtest"
)

// sampleEvery is how often the monitor reads who holds the VIP: fine
// enough to time a gap against master_down (1.8 s) to a few percent.
const sampleEvery = 20 * time.Millisecond

// kindReset charges the monitor's spans while the soak rebuilds the pair
// after a violation: deliberate, so not any fault's.
const kindReset Kind = "reset"

// soak is one run.
type soak struct {
	*pair
	s       Settings
	mon     *Monitor
	report  *Report
	started time.Time
	seq     []string // the faults since the pair was last whole
}

// Run builds the pair of v, injects the faults of s and returns the
// report. A harness failure (a lab step, a daemon that will not start)
// fails t; a broken invariant is a Violation in the report, logged with
// its replay, and the pair is rebuilt before the next fault.
func Run(t testing.TB, v Variant, s Settings) *Report {
	t.Helper()
	sk := &soak{pair: newPair(t, v), s: s, mon: NewMonitor(kindReset)}
	sk.report = &Report{Variant: v.Name, Settings: s, Injected: map[Kind]int{}, Longest: sk.mon.Longest}
	t.Logf("soak: %s for %s, seed %d, faults %v, settle %s (replay: %s=%d)", v.Name, s.Duration, s.Seed, s.Kinds, settle, EnvSeed, s.Seed)
	sk.started = time.Now()
	done := false
	defer func() {
		if !done { // t.Fatal on the way: show what the run had found
			sk.report.Elapsed = time.Since(sk.started)
			t.Logf("soak ended early; so far:\n%s", sk.report.Table())
		}
	}()

	for _, n := range sk.nodes {
		sk.start(n, "start")
	}
	sk.whole()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { sk.sample(ctx) })
	defer func() { cancel(); wg.Wait() }()

	sched := NewSchedule(s.Seed, s.Kinds)
	for time.Since(sk.started) < s.Duration && (s.Steps == 0 || sk.report.Faults < s.Steps) {
		sk.step(sched.Next())
	}
	sk.report.Elapsed = time.Since(sk.started)
	for _, n := range sk.nodes {
		sk.finish(n)
	}
	done = true
	return sk.report
}

// sample feeds the monitor until ctx ends.
func (sk *soak) sample(ctx context.Context) {
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			sk.mon.Observe(now, names(sk.holders()))
		}
	}
}

// step injects f, lets it settle and checks the invariant.
func (sk *soak) step(f Fault) {
	sk.t.Helper()
	n := sk.target(f)
	role, calm, expect := Backup, sk.calmBefore(f, n), ""
	if sk.sole() == n {
		role = Master
	}
	if calm != nil {
		expect = calm.holder.name
	}
	// The host and its role as found: the kinds only lvsd has hit the
	// lvsd whatever the role drawn.
	at := time.Since(sk.started).Round(100 * time.Millisecond)
	line := fmt.Sprintf("+%s %s [%s, the %s]", at, f, n.name, role)
	sk.seq = append(sk.seq, line)
	sk.report.Faults++
	sk.report.Injected[f.Kind]++
	sk.mon.Begin(f.Kind, expect)

	if f.Kind == Kill {
		sk.retire(n)
	}
	problems := sk.inject(f, n)
	time.Sleep(settle)
	problems = append(problems, sk.check()...)
	problems = append(problems, sk.calmAfter(calm, sk.mon.Moved())...)
	if len(problems) == 0 {
		sk.t.Logf("soak: %s: ok", line)
		for _, n := range sk.nodes {
			if n.measured {
				n.usage.Faults++
			}
		}
		sk.measure()
		return
	}
	v := Violation{Fault: f, Problems: problems, Sequence: sk.seq}
	sk.report.Violations = append(sk.report.Violations, v)
	sk.t.Logf("soak: %s\n%s", line, v.String(sk.s, sk.v.Test))
	sk.rebuild(fmt.Sprintf("reset after #%d", f.Seq))
}

// rebuild makes the pair whole again after a violation: both daemons
// killed, the VIP removed everywhere, both started afresh.
func (sk *soak) rebuild(why string) {
	sk.t.Helper()
	sk.mon.Begin(kindReset, "")
	for _, n := range sk.nodes {
		sk.retire(n)
		n.proc().Kill()
	}
	for _, n := range sk.holders() {
		if out, err := sk.run(n.host, "ip", "addr", "del", vipPrefix.String(), "dev", "eth0"); err != nil {
			sk.t.Fatalf("soak: clearing the VIP on %s: %v: %s", n.name, err, out)
		}
	}
	for _, n := range sk.nodes {
		sk.start(n, why)
	}
	sk.whole()
}

// whole waits for a pair just started to elect one master, teaches the
// observer the VIP and checks the invariant: the start of a sequence.
func (sk *soak) whole() {
	sk.t.Helper()
	lvsdtest.WaitFor(sk.t, 10*time.Second, "one director holds the VIP", func() bool { return sk.sole() != nil })
	time.Sleep(settle) // the election ends: the higher priority preempts
	sk.learnVIP()
	if problems := sk.check(); len(problems) > 0 {
		sk.t.Fatalf("soak: the pair just started is not whole:\n  - %s", strings.Join(problems, "\n  - "))
	}
	sk.seq = nil
	sk.measure()
}

// measure takes the first usage reading of every lvsd (re)started since
// the last one.
func (sk *soak) measure() {
	for _, n := range sk.nodes {
		if n.lvsd == nil || n.measured {
			continue
		}
		u, err := ReadUsage(n.lvsd.Pid())
		if err != nil {
			sk.t.Fatalf("soak: %v", err)
		}
		n.usage = DaemonUsage{Name: n.name, Pid: n.lvsd.Pid(), Since: n.since, Start: u}
		n.measured = true
	}
}

// retire takes the last reading of an lvsd about to be killed. Its row
// is kept if it leaked (a leak must not hide behind a restart), or as
// the node's longest-lived run so far, shown at the end beside the last.
func (sk *soak) retire(n *node) {
	if n.lvsd == nil || !n.measured || n.lvsd.Exited() {
		return
	}
	u, err := ReadUsage(n.lvsd.Pid())
	if err != nil {
		return
	}
	n.usage.End = u
	switch {
	case n.usage.Leak() != "":
		sk.report.Daemons = append(sk.report.Daemons, n.usage)
	case n.usage.Faults > n.longest.Faults:
		n.longest = n.usage
	}
}

// finish takes the last reading of the lvsd running at the end.
func (sk *soak) finish(n *node) {
	if n.lvsd == nil || !n.measured || n.lvsd.Exited() {
		return
	}
	u, err := ReadUsage(n.lvsd.Pid())
	if err != nil {
		sk.t.Errorf("soak: %v", err)
		return
	}
	n.usage.End = u
	if n.longest.Faults > n.usage.Faults {
		sk.report.Daemons = append(sk.report.Daemons, n.longest)
	}
	sk.report.Daemons = append(sk.report.Daemons, n.usage)
}
