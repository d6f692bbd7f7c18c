package sync

import (
	"fmt"
	"slices"
	stdsync "sync"
	"syscall"
)

// Fake is an in-memory Control that answers like the kernel: EEXIST for a
// second daemon of a state, ESRCH for stopping one that does not run,
// ENODEV for an unknown interface, and parameters stored as the kernel
// stores them (Config.Effective). It records every Start and Stop, so
// tests can assert the exact sequence. It is safe for concurrent use.
type Fake struct {
	// Interfaces, if not nil, are the interfaces that exist; Start on any
	// other fails as the kernel does (ENODEV).
	Interfaces []string
	// Fail, if set, is asked before each Start and Stop; a non-nil error
	// (an errno, typically) is returned through the kernel's error mapping
	// instead of doing it. The call is recorded either way.
	Fail func(Call) error

	mu      stdsync.Mutex
	running map[State]Config
	calls   []Call
}

var _ Control = (*Fake)(nil)

// Call is one Start or Stop asked of a Fake.
type Call struct {
	Op     Op // OpStart or OpStop
	State  State
	Config Config // as given to Start; zero for Stop
}

// String renders c as "start master (mcast=…)" or "stop backup".
func (c Call) String() string {
	if c.Op == OpStart {
		return fmt.Sprintf("%s %s (%s)", c.Op, c.State, c.Config)
	}
	return fmt.Sprintf("%s %s", c.Op, c.State)
}

// NewFake returns a Fake with the given daemons already running, as if
// started by another tool or an earlier lvsd.
func NewFake(running ...Daemon) *Fake {
	f := &Fake{running: map[State]Config{}}
	for _, d := range running {
		f.running[d.State] = d.Config.Effective(d.State)
	}
	return f
}

func (f *Fake) Start(s State, c Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := Call{Op: OpStart, State: s, Config: c}
	f.calls = append(f.calls, call)
	if !s.Valid() {
		return fmt.Errorf("sync: start daemon: %w: %s is neither master nor backup", ErrInvalidConfig, s)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("sync: start %s daemon: %w", s, err)
	}
	if f.Fail != nil {
		if err := f.Fail(call); err != nil {
			return startError(s, c, err)
		}
	}
	if f.Interfaces != nil && !slices.Contains(f.Interfaces, c.Interface) {
		return startError(s, c, syscall.ENODEV)
	}
	if _, ok := f.running[s]; ok {
		return startError(s, c, syscall.EEXIST)
	}
	if f.running == nil {
		f.running = map[State]Config{}
	}
	f.running[s] = c.Effective(s)
	return nil
}

func (f *Fake) Stop(s State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := Call{Op: OpStop, State: s}
	f.calls = append(f.calls, call)
	if !s.Valid() {
		return fmt.Errorf("sync: stop daemon: %w: %s is neither master nor backup", ErrInvalidConfig, s)
	}
	if f.Fail != nil {
		if err := f.Fail(call); err != nil {
			return stopError(s, err)
		}
	}
	if _, ok := f.running[s]; !ok {
		return stopError(s, syscall.ESRCH)
	}
	delete(f.running, s)
	return nil
}

func (f *Fake) Daemons() ([]Daemon, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Daemon
	for _, s := range States {
		if c, ok := f.running[s]; ok {
			out = append(out, Daemon{State: s, Config: c})
		}
	}
	return out, nil
}

// Calls returns the Starts and Stops asked so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Reset forgets the recorded calls (not the running daemons).
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}
