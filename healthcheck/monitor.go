package healthcheck

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Errors of the Monitor's target operations, for errors.Is.
var (
	ErrExists   = errors.New("target already monitored")
	ErrNotFound = errors.New("target not monitored")
	ErrStopped  = errors.New("monitor stopped")
)

// Target is one real server to monitor.
type Target struct {
	Key     Key
	Checker Checker
	// Config's Interval, Timeout, Rise and Fall drive the schedule and the
	// hysteresis; the rest of it is the checker's business.
	Config  Config
	Initial State // adopted from the kernel: Up; new: Down
}

// NewTarget builds a target with the checker cfg describes for the real
// server at addr.
func NewTarget(key Key, addr netip.Addr, cfg Config, runner Runner, initial State) (Target, error) {
	c, err := NewChecker(addr, cfg, runner)
	if err != nil {
		return Target{}, fmt.Errorf("target %s: %w", key, err)
	}
	return Target{Key: key, Checker: c, Config: cfg, Initial: initial}, nil
}

func (t Target) validate() error {
	c := t.Config
	switch {
	case t.Checker == nil:
		return fmt.Errorf("target %s: no checker", t.Key)
	case c.Interval <= 0 || c.Timeout <= 0:
		return fmt.Errorf("target %s: interval %s and timeout %s must be positive", t.Key, c.Interval, c.Timeout)
	case c.Rise < 1 || c.Fall < 1:
		return fmt.Errorf("target %s: rise %d and fall %d must be at least 1", t.Key, c.Rise, c.Fall)
	}
	return nil
}

// Monitor checks real servers, each on a goroutine of its own so that a
// slow check never delays another, and reports their transitions.
//
// Each target is checked every Interval, each check bounded by Timeout.
// It turns Up after Rise successes in a row and Down after Fall failures
// in a row; only transitions are reported. A target's first check waits
// an offset within its interval, so that targets added together are
// spread over the interval instead of checked in a burst.
type Monitor struct {
	ctx     context.Context
	onEvent func(Event)
	queue   *eventQueue
	done    chan struct{}

	mu      sync.Mutex
	targets map[Key]*target
	added   uint64 // targets added so far: the sequence that spreads first checks
	stopped bool
	runners sync.WaitGroup
}

// target is the monitor's record of one server. Its status outlives
// Replace; each Replace starts a new generation of its check loop.
type target struct {
	seq    uint64 // its place among the targets added: the phase of its checks
	cancel context.CancelFunc

	mu  sync.Mutex
	gen uint64 // the check loop whose results count; older ones' are dropped
	st  Status
}

// NewMonitor starts a monitor that runs until ctx ends. onEvent receives
// every transition, in order, on a goroutine of the monitor's: it may
// block without holding back any check (events queue up meanwhile).
// onEvent may be nil.
func NewMonitor(ctx context.Context, onEvent func(Event)) *Monitor {
	m := &Monitor{
		ctx:     ctx,
		onEvent: onEvent,
		queue:   newEventQueue(),
		done:    make(chan struct{}),
		targets: make(map[Key]*target),
	}
	go m.deliver()
	return m
}

// Wait returns once the monitor has stopped: ctx has ended, every check
// loop has returned and every event has been delivered.
func (m *Monitor) Wait() { <-m.done }

// Add starts monitoring t in its Initial state.
func (m *Monitor) Add(t Target) error {
	if err := t.validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped || m.ctx.Err() != nil {
		return ErrStopped
	}
	if _, ok := m.targets[t.Key]; ok {
		return fmt.Errorf("add %s: %w", t.Key, ErrExists)
	}
	tg := &target{
		seq: m.added,
		st:  Status{Key: t.Key, State: t.Initial, Since: time.Now()},
	}
	m.added++
	m.targets[t.Key] = tg
	m.start(tg, t, 0)
	return nil
}

// Replace swaps the check of a monitored target (a reload changed it).
// The state and its Since carry over, so an unchanged server does not
// flap; the streak towards a transition restarts, since it was counted
// by the old check. t.Initial is ignored.
func (m *Monitor) Replace(t Target) error {
	if err := t.validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped || m.ctx.Err() != nil {
		return ErrStopped
	}
	tg, ok := m.targets[t.Key]
	if !ok {
		return fmt.Errorf("replace %s: %w", t.Key, ErrNotFound)
	}
	tg.cancel()
	tg.mu.Lock()
	tg.gen++
	gen := tg.gen
	tg.st.Pending = 0
	tg.mu.Unlock()
	m.start(tg, t, gen)
	return nil
}

// Remove stops monitoring key; it reports no event. A check in flight is
// cancelled and its result dropped.
func (m *Monitor) Remove(key Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tg, ok := m.targets[key]
	if !ok {
		return fmt.Errorf("remove %s: %w", key, ErrNotFound)
	}
	delete(m.targets, key)
	tg.cancel()
	tg.mu.Lock()
	tg.gen++
	tg.mu.Unlock()
	return nil
}

// Status returns the status of key.
func (m *Monitor) Status(key Key) (Status, bool) {
	m.mu.Lock()
	tg, ok := m.targets[key]
	m.mu.Unlock()
	if !ok {
		return Status{}, false
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.st, true
}

// Snapshot returns the status of every target, ordered by key.
func (m *Monitor) Snapshot() []Status {
	m.mu.Lock()
	tgs := make([]*target, 0, len(m.targets))
	for _, tg := range m.targets {
		tgs = append(tgs, tg)
	}
	m.mu.Unlock()
	out := make([]Status, len(tgs))
	for i, tg := range tgs {
		tg.mu.Lock()
		out[i] = tg.st
		tg.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Status) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// spread is the offset of the n-th target's first check: the fractional
// part of n × the golden ratio, times the interval. Any run of consecutive
// n then falls evenly over the interval (its gaps differ by at most a
// factor of φ²) without knowing how many targets will come, and the same
// configuration gives the same schedule.
func spread(n uint64, interval time.Duration) time.Duration {
	const phi = 0.6180339887498949 // 1/φ
	_, frac := math.Modf(float64(n) * phi)
	return time.Duration(frac * float64(interval))
}

// start runs a check loop of generation gen. Called with m.mu held.
func (m *Monitor) start(tg *target, t Target, gen uint64) {
	ctx, cancel := context.WithCancel(m.ctx)
	tg.cancel = cancel
	m.runners.Add(1)
	go func() {
		defer m.runners.Done()
		m.loop(ctx, tg, t, gen)
	}()
}

// loop checks on a fixed schedule, offset + k × Interval, rather than an
// interval after each check, so the phases stay spread. A check that
// overruns its slot (a checker ignoring its deadline) skips the slots it
// missed.
func (m *Monitor) loop(ctx context.Context, tg *target, t Target, gen uint64) {
	interval := t.Config.Interval
	offset := spread(tg.seq, interval)
	next := time.Now().Add(offset)
	timer := time.NewTimer(offset)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		started := time.Now()
		cctx, cancel := WithTimeout(ctx, t.Config.Timeout)
		r := check(cctx, t.Checker)
		cancel()
		if ctx.Err() != nil {
			return // removed, replaced or stopped: the result is moot
		}
		if r.Latency == 0 {
			r.Latency = time.Since(started)
		}
		m.record(tg, gen, t.Config, started, r)

		next = next.Add(interval)
		if now := time.Now(); !next.After(now) {
			next = next.Add((now.Sub(next)/interval + 1) * interval)
		}
		timer.Reset(time.Until(next))
	}
}

// check runs one check; a panicking checker fails its check instead of
// taking the daemon down.
func check(ctx context.Context, c Checker) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("checker panicked: %v", p)
			r = Result{Reason: err.Error(), Err: err}
		}
	}()
	return c.Check(ctx)
}

// record counts r towards a transition; the event is queued under the
// target's lock so that one target's events keep their order.
func (m *Monitor) record(tg *target, gen uint64, cfg Config, started time.Time, r Result) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.gen != gen {
		return
	}
	st := &tg.st
	st.Checks++
	st.LastCheck, st.Last = started, r
	if r.Up == (st.State == Up) {
		st.Pending = 0
		return
	}
	st.Pending++
	need, to := cfg.Fall, Down
	if st.State == Down {
		need, to = cfg.Rise, Up
	}
	if st.Pending < need {
		return
	}
	now := time.Now()
	ev := Event{Key: st.Key, State: to, Reason: r.Reason, At: now, Count: st.Pending}
	st.State, st.Since, st.Pending = to, now, 0
	if m.onEvent != nil {
		m.queue.push(ev)
	}
}

// deliver hands queued events to onEvent until the monitor stops, then
// delivers what the last checks queued.
func (m *Monitor) deliver() {
	defer close(m.done)
	for {
		select {
		case <-m.queue.wake:
			m.emit()
		case <-m.ctx.Done():
			m.mu.Lock()
			m.stopped = true // no Add may start a loop the Wait below would miss
			m.mu.Unlock()
			m.runners.Wait()
			m.emit()
			return
		}
	}
}

func (m *Monitor) emit() {
	for _, ev := range m.queue.take() {
		m.onEvent(ev)
	}
}
