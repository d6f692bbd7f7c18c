package sync

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	stdsync "sync"
)

// Op is what the Follower does to one daemon.
type Op uint8

const (
	OpStart Op = iota + 1
	OpStop
	// OpKeep is a daemon found running with the wanted parameters when
	// the follower starts, and adopted instead of restarted, so that a
	// restart of lvsd leaves no gap in the sync stream.
	OpKeep
)

func (o Op) String() string {
	switch o {
	case OpStart:
		return "start"
	case OpStop:
		return "stop"
	case OpKeep:
		return "keep"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Action is one thing the Follower did, for logs and status.
type Action struct {
	Op     Op
	State  State
	Config Config // the daemon's parameters: wanted (start, keep) or found (stop)
	Reason string
	Err    error
}

func (a Action) String() string {
	s := fmt.Sprintf("%s %s sync daemon", a.Op, a.State)
	if a.Op != OpStop {
		s += " (" + a.Config.String() + ")"
	}
	s += ": " + a.Reason
	if a.Err != nil {
		s += ": failed: " + a.Err.Error()
	}
	return s
}

// Follower drives the kernel's sync daemons from the VRRP state of the
// instance it follows: a master runs the master daemon (it sends its
// connections), anything else (backup, fault, init) runs the backup daemon
// (it receives the master's). Following no instance, it runs both, so that
// either director can be the sender. It owns the sync daemons of its
// namespace: one it does not want is stopped, whoever started it.
//
// It has no goroutine and no timer: each method compares what the kernel
// runs (Control.Daemons) with what it wants and does the difference, so
// the same call after a failure retries it and a daemon stopped behind its
// back is restarted. Starts come before stops, so a role change never
// leaves the director with no daemon. Safe for concurrent use.
type Follower struct {
	ctl     Control
	follows bool

	mu      stdsync.Mutex
	cfg     Config
	master  bool
	active  bool // between Start and Stop
	adopted bool // the first reconcile, which may adopt, is done
	running []Daemon
	last    []Action
	lastErr error
}

// NewFollower returns a follower of cfg (with defaults filled in) over
// ctl. followsInstance says whether a VRRP instance drives it (SetState)
// or both daemons run. Nothing happens before Start.
func NewFollower(ctl Control, cfg Config, followsInstance bool) *Follower {
	return &Follower{ctl: ctl, cfg: cfg.WithDefaults(), follows: followsInstance}
}

// Start begins following: it brings the kernel to what the current state
// wants (the backup daemon for an instance still in init), adopting
// daemons already running with the wanted parameters.
func (f *Follower) Start() ([]Action, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	f.active = true
	return f.reconcile()
}

// SetState records whether the followed instance is master, and, once
// started, starts and stops daemons to match. Without an instance it
// changes nothing.
func (f *Follower) SetState(master bool) ([]Action, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.master = master
	if !f.active || !f.follows {
		return nil, nil
	}
	return f.reconcile()
}

// Update replaces the parameters (with defaults filled in). Running
// daemons whose parameters change are restarted; unchanged ones are left
// alone. An invalid cfg changes nothing.
func (f *Follower) Update(cfg Config) ([]Action, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = cfg
	if !f.active {
		return nil, nil
	}
	return f.reconcile()
}

// Reconcile does again whatever the kernel lacks, e.g. after a failed
// start or a daemon stopped by hand.
func (f *Follower) Reconcile() ([]Action, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.active {
		return nil, nil
	}
	return f.reconcile()
}

// Stop stops every sync daemon of the namespace and ends following.
func (f *Follower) Stop() ([]Action, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active = false
	return f.reconcile()
}

// FollowerStatus is the follower's view, for the status socket.
type FollowerStatus struct {
	FollowsInstance bool
	Master          bool // the followed instance is master
	Active          bool
	Config          Config
	Running         []Daemon // as of the last reconcile
	LastActions     []Action // of the last reconcile that did something
	LastError       error    // of the last reconcile
}

// Status returns a copy of the follower's view.
func (f *Follower) Status() FollowerStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return FollowerStatus{
		FollowsInstance: f.follows, Master: f.master, Active: f.active, Config: f.cfg,
		Running: slices.Clone(f.running), LastActions: slices.Clone(f.last), LastError: f.lastErr,
	}
}

// wanted returns the states that should run, in the order to start them,
// and why.
func (f *Follower) wanted() ([]State, string) {
	switch {
	case !f.active:
		return nil, "stopping"
	case !f.follows:
		return []State{Master, Backup}, "no VRRP instance followed: both daemons run"
	case f.master:
		return []State{Master}, "VRRP master"
	default:
		return []State{Backup}, "VRRP not master"
	}
}

func (f *Follower) reconcile() ([]Action, error) {
	found, err := f.ctl.Daemons()
	if err != nil {
		f.lastErr = fmt.Errorf("sync: read the kernel's daemons: %w", err)
		return nil, f.lastErr
	}
	have := map[State]Config{}
	for _, d := range found {
		have[d.State] = d.Config
	}
	want, why := f.wanted()
	var acts []Action
	for _, s := range want {
		cur, ok := have[s]
		eff := f.cfg.Effective(s)
		switch {
		case ok && cur == eff:
			if !f.adopted {
				acts = append(acts, Action{Op: OpKeep, State: s, Config: f.cfg, Reason: "already running with these parameters"})
			}
			continue
		case ok:
			a := f.stop(s, cur, "parameters changed")
			acts = append(acts, a)
			if a.Err == nil { // else it may still run: a start would only fail with EEXIST
				acts = append(acts, f.start(s, "parameters changed"))
			}
			continue
		}
		acts = append(acts, f.start(s, why))
	}
	for _, s := range States {
		if cur, ok := have[s]; ok && !slices.Contains(want, s) {
			acts = append(acts, f.stop(s, cur, why))
		}
	}
	f.adopted = true

	// What runs now: what was found, changed by what succeeded.
	now := maps.Clone(have)
	var errs []error
	for _, a := range acts {
		switch {
		case a.Err != nil:
			errs = append(errs, a.Err)
		case a.Op == OpStart:
			now[a.State] = a.Config.Effective(a.State)
		case a.Op == OpStop:
			delete(now, a.State)
		}
	}
	f.running = nil
	for _, s := range States {
		if c, ok := now[s]; ok {
			f.running = append(f.running, Daemon{State: s, Config: c})
		}
	}
	if len(acts) > 0 {
		f.last = acts
	}
	f.lastErr = errors.Join(errs...)
	return acts, f.lastErr
}

func (f *Follower) start(s State, why string) Action {
	return Action{Op: OpStart, State: s, Config: f.cfg, Reason: why, Err: f.ctl.Start(s, f.cfg)}
}

// stop stops s; one already gone is as good as stopped.
func (f *Follower) stop(s State, cur Config, why string) Action {
	a := Action{Op: OpStop, State: s, Config: cur, Reason: why}
	if err := f.ctl.Stop(s); errors.Is(err, os.ErrNotExist) {
		a.Reason += " (it had already stopped)"
	} else {
		a.Err = err
	}
	return a
}
