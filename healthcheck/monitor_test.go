package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeChecker answers from a script of results (the last repeats) and
// records when it was called. With hang, it waits for its deadline.
type fakeChecker struct {
	mu      sync.Mutex
	results []bool
	hang    bool
	panics  bool
	calls   []time.Time
}

func (f *fakeChecker) Check(ctx context.Context) Result {
	f.mu.Lock()
	i := len(f.calls)
	f.calls = append(f.calls, time.Now())
	up := len(f.results) > 0 && f.results[min(i, len(f.results)-1)]
	f.mu.Unlock()
	switch {
	case f.panics:
		panic("boom")
	case f.hang:
		start := time.Now()
		<-ctx.Done()
		return Result{Reason: "hung", Latency: time.Since(start), Err: ctx.Err()}
	case up:
		return Result{Up: true, Reason: fmt.Sprintf("check %d ok", i)}
	}
	return Result{Reason: fmt.Sprintf("check %d failed", i), Err: errors.New("failed")}
}

func (f *fakeChecker) callTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func schedule(interval, timeout time.Duration, rise, fall int) Config {
	return Config{Kind: TCP, Interval: interval, Timeout: timeout, Rise: rise, Fall: fall}
}

// recorder collects events; read it after Monitor.Wait.
type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) add(ev Event) { r.mu.Lock(); r.evs = append(r.evs, ev); r.mu.Unlock() }
func (r *recorder) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evs)
}

func wantEvents(t *testing.T, got, want []Event) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %v\nwant %v", got, want)
	}
}

// Rise successes in a row bring a server up, fall failures in a row take
// it down; a result that agrees with the state resets the streak.
func TestMonitorRiseFall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var rec recorder
		m := NewMonitor(ctx, rec.add)
		t0 := time.Now()
		//                     0      1     2     3      4      5     6      7      8      9
		f := &fakeChecker{results: []bool{false, true, true, false, false, true, false, false, false, true}}
		if err := m.Add(Target{Key: "web/a", Checker: f, Config: schedule(time.Second, 500*time.Millisecond, 2, 3), Initial: Down}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(9500 * time.Millisecond)
		st, ok := m.Status("web/a")
		cancel()
		m.Wait()

		wantEvents(t, rec.events(), []Event{
			{Key: "web/a", State: Up, Reason: "check 2 ok", At: t0.Add(2 * time.Second), Count: 2},
			{Key: "web/a", State: Down, Reason: "check 8 failed", At: t0.Add(8 * time.Second), Count: 3},
		})
		// The first of a key's checks is at once (offset 0), then one a second.
		for i, at := range f.callTimes() {
			if want := t0.Add(time.Duration(i) * time.Second); !at.Equal(want) {
				t.Errorf("check %d at %v, want %v", i, at.Sub(t0), want.Sub(t0))
			}
		}
		want := Status{
			Key: "web/a", State: Down, Since: t0.Add(8 * time.Second), Pending: 1, Checks: 10,
			LastCheck: t0.Add(9 * time.Second), Last: Result{Up: true, Reason: "check 9 ok"},
		}
		if !ok || st != want {
			t.Errorf("status\n got %+v\nwant %+v", st, want)
		}
	})
}

// A server adopted as up goes down after fall failures, not at the first.
func TestMonitorInitialUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var rec recorder
		m := NewMonitor(ctx, rec.add)
		t0 := time.Now()
		f := &fakeChecker{results: []bool{false}}
		m.Add(Target{Key: "a", Checker: f, Config: schedule(2*time.Second, time.Second, 2, 3), Initial: Up})
		time.Sleep(3 * time.Second)
		if st, _ := m.Status("a"); st.State != Up || st.Pending != 2 {
			t.Errorf("after 2 failures: %v with %d pending, want up with 2 pending", st.State, st.Pending)
		}
		time.Sleep(2 * time.Second)
		cancel()
		m.Wait()
		wantEvents(t, rec.events(), []Event{{Key: "a", State: Down, Reason: "check 2 failed", At: t0.Add(4 * time.Second), Count: 3}})
	})
}

// Targets added together are spread over the interval, and each keeps its
// phase: check k of a target is exactly k intervals after its first.
func TestMonitorStaggers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 20
		interval := time.Second
		ctx, cancel := context.WithCancel(t.Context())
		m := NewMonitor(ctx, nil)
		t0 := time.Now()
		fs := make([]*fakeChecker, n)
		for i := range fs {
			fs[i] = &fakeChecker{results: []bool{true}}
			m.Add(Target{Key: Key(fmt.Sprintf("s%02d", i)), Checker: fs[i], Config: schedule(interval, interval/2, 1, 1), Initial: Up})
		}
		time.Sleep(3*interval + interval/2)
		cancel()
		m.Wait()

		var firsts []time.Duration
		for i, f := range fs {
			calls := f.callTimes()
			if len(calls) < 3 {
				t.Fatalf("target %d: %d checks, want at least 3", i, len(calls))
			}
			first := calls[0].Sub(t0)
			if first < 0 || first >= interval {
				t.Errorf("target %d: first check at %v, want within [0, %v)", i, first, interval)
			}
			for k, at := range calls {
				if want := calls[0].Add(time.Duration(k) * interval); !at.Equal(want) {
					t.Errorf("target %d check %d at %v, want %v", i, k, at.Sub(t0), want.Sub(t0))
				}
			}
			firsts = append(firsts, first)
		}
		// Evenly spread: no gap between neighbouring first checks (around
		// the circle of one interval) is below a third, or above three
		// times, the even share interval/n.
		slices.Sort(firsts)
		firsts = append(firsts, firsts[0]+interval)
		for i := 1; i < len(firsts); i++ {
			gap := firsts[i] - firsts[i-1]
			if gap < interval/(3*n) || gap > 3*interval/n {
				t.Errorf("gap %v between first checks at %v and %v, want within [%v, %v]", gap, firsts[i-1], firsts[i], interval/(3*n), 3*interval/n)
			}
		}
	})
}

// A check that hangs costs its own target the timeout and nothing else:
// the other target is checked on time throughout.
func TestMonitorHungCheckBlocksNoOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var rec recorder
		m := NewMonitor(ctx, rec.add)
		t0 := time.Now()
		hung := &fakeChecker{hang: true}
		fast := &fakeChecker{results: []bool{true}}
		cfg := schedule(time.Second, 500*time.Millisecond, 2, 2)
		m.Add(Target{Key: "hung", Checker: hung, Config: cfg, Initial: Up})
		m.Add(Target{Key: "fast", Checker: fast, Config: cfg, Initial: Up})
		time.Sleep(4200 * time.Millisecond) // cancel during hung's fifth check
		st, _ := m.Status("hung")
		cancel()
		m.Wait()

		wantEvents(t, rec.events(), []Event{{Key: "hung", State: Down, Reason: "hung", At: t0.Add(1500 * time.Millisecond), Count: 2}})
		if st.Last.Latency != 500*time.Millisecond || st.LastCheck != t0.Add(3*time.Second) {
			t.Errorf("hung: last check at %v took %v, want at 3s taking 500ms", st.LastCheck.Sub(t0), st.Last.Latency)
		}
		calls := fast.callTimes()
		if len(calls) != 4 {
			t.Errorf("fast: %d checks, want 4", len(calls))
		}
		for k, at := range calls {
			if want := calls[0].Add(time.Duration(k) * time.Second); !at.Equal(want) {
				t.Errorf("fast check %d at %v, want %v", k, at.Sub(t0), want.Sub(t0))
			}
		}
	})
}

// A consumer that does not take its events holds back no check; the
// events wait for it, in order.
func TestMonitorSlowConsumer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		release := make(chan struct{})
		var rec recorder
		m := NewMonitor(ctx, func(ev Event) {
			<-release
			rec.add(ev)
		})
		t0 := time.Now()
		flap := &fakeChecker{results: []bool{true, false, true, false, true, false}}
		m.Add(Target{Key: "a", Checker: flap, Config: schedule(time.Second, 500*time.Millisecond, 1, 1), Initial: Down})
		time.Sleep(5500 * time.Millisecond)
		if st, _ := m.Status("a"); st.Checks != 6 {
			t.Errorf("%d checks while the consumer was blocked, want 6", st.Checks)
		}
		close(release)
		cancel()
		m.Wait()

		var want []Event
		for i := range 6 {
			ev := Event{Key: "a", State: Up, Reason: fmt.Sprintf("check %d ok", i), At: t0.Add(time.Duration(i) * time.Second), Count: 1}
			if i%2 == 1 {
				ev.State, ev.Reason = Down, fmt.Sprintf("check %d failed", i)
			}
			want = append(want, ev)
		}
		wantEvents(t, rec.events(), want)
	})
}

// Replace keeps the state and restarts the streak; Remove ends the checks
// without an event.
func TestMonitorReplaceRemove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var rec recorder
		m := NewMonitor(ctx, rec.add)
		t0 := time.Now()
		cfg := schedule(time.Second, 500*time.Millisecond, 1, 2)
		old := &fakeChecker{results: []bool{true, false}}
		if err := m.Add(Target{Key: "a", Checker: old, Config: cfg, Initial: Down}); err != nil {
			t.Fatal(err)
		}
		if err := m.Add(Target{Key: "a", Checker: old, Config: cfg}); !errors.Is(err, ErrExists) {
			t.Errorf("second Add: %v, want ErrExists", err)
		}
		time.Sleep(1500 * time.Millisecond) // up at 0s, one failure pending at 1s

		repl := &fakeChecker{results: []bool{false, false, true}}
		if err := m.Replace(Target{Key: "a", Checker: repl, Config: cfg, Initial: Down}); err != nil {
			t.Fatal(err)
		}
		if st, _ := m.Status("a"); st.State != Up || st.Pending != 0 || st.Since != t0 {
			t.Errorf("after Replace: %v since %v, %d pending; want up since 0s, 0 pending", st.State, st.Since.Sub(t0), st.Pending)
		}
		time.Sleep(1500 * time.Millisecond) // repl checks at 1.5s and 2.5s: down
		if err := m.Remove("a"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		if _, ok := m.Status("a"); ok {
			t.Error("removed target still has a status")
		}
		if err := m.Replace(Target{Key: "a", Checker: repl, Config: cfg}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Replace of removed target: %v, want ErrNotFound", err)
		}
		if err := m.Remove("a"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second Remove: %v, want ErrNotFound", err)
		}
		cancel()
		m.Wait()
		if err := m.Add(Target{Key: "b", Checker: old, Config: cfg}); !errors.Is(err, ErrStopped) {
			t.Errorf("Add after stop: %v, want ErrStopped", err)
		}

		if n := len(old.callTimes()); n != 2 {
			t.Errorf("old checker ran %d times, want 2 (none after Replace)", n)
		}
		if n := len(repl.callTimes()); n != 2 {
			t.Errorf("new checker ran %d times, want 2 (none after Remove)", n)
		}
		wantEvents(t, rec.events(), []Event{
			{Key: "a", State: Up, Reason: "check 0 ok", At: t0, Count: 1},
			{Key: "a", State: Down, Reason: "check 1 failed", At: t0.Add(2500 * time.Millisecond), Count: 2},
		})
	})
}

// A panicking checker fails its checks; the monitor goes on.
func TestMonitorCheckerPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var rec recorder
		m := NewMonitor(ctx, rec.add)
		t0 := time.Now()
		m.Add(Target{Key: "a", Checker: &fakeChecker{panics: true}, Config: schedule(time.Second, 500*time.Millisecond, 1, 2), Initial: Up})
		time.Sleep(1500 * time.Millisecond)
		cancel()
		m.Wait()
		wantEvents(t, rec.events(), []Event{{Key: "a", State: Down, Reason: "checker panicked: boom", At: t0.Add(time.Second), Count: 2}})
	})
}

func TestMonitorSnapshotAndValidation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		m := NewMonitor(ctx, nil)
		cfg := schedule(time.Second, 500*time.Millisecond, 1, 1)
		for _, k := range []Key{"c", "a", "b"} {
			m.Add(Target{Key: k, Checker: &fakeChecker{results: []bool{true}}, Config: cfg, Initial: Down})
		}
		for _, bad := range []Target{
			{Key: "x", Config: cfg},
			{Key: "x", Checker: &fakeChecker{}, Config: schedule(0, time.Second, 1, 1)},
			{Key: "x", Checker: &fakeChecker{}, Config: schedule(time.Second, 500*time.Millisecond, 0, 1)},
		} {
			if err := m.Add(bad); err == nil {
				t.Errorf("Add(%+v) accepted", bad.Config)
			}
		}
		time.Sleep(1500 * time.Millisecond)
		snap := m.Snapshot()
		cancel()
		m.Wait()
		var keys []Key
		for _, st := range snap {
			keys = append(keys, st.Key)
			if st.State != Up {
				t.Errorf("%s: %v, want up", st.Key, st.State)
			}
		}
		if !slices.Equal(keys, []Key{"a", "b", "c"}) {
			t.Errorf("snapshot keys %v, want a b c", keys)
		}
	})
}
