package sync

import (
	"context"
	"log/slog"
	stdsync "sync"
)

// Loop is connection sync as the daemon runs it: a Follower of one VRRP
// instance's state (master sends, backup receives; both when it follows
// none), fed in order by one goroutine so a transition never waits on
// netlink, and an Observer of the sync traffic that arrives, so operators
// see sync work before they need it.
type Loop struct {
	log      *slog.Logger
	instance string // followed; fixed for the loop's life (a change makes a new one)
	f        *Follower
	obs      *Observer // nil: traffic not observed
	states   chan bool // the followed instance is master, in order
	cancel   func()
	wg       stdsync.WaitGroup

	mu  stdsync.Mutex
	cfg Config
}

// stateQueue is how many transitions may wait for the loop; should more
// come, the last one still wins (see SetState).
const stateQueue = 64

// StartLoop starts the daemons cfg asks for through ctl and follows
// instance ("" = none: master and backup daemons both run). obs, if not
// nil, is run until Stop and closed by it. Its goroutines end with ctx or
// Stop; ctl stays the caller's to close.
func StartLoop(ctx context.Context, ctl Control, obs *Observer, cfg Config, instance string, log *slog.Logger) *Loop {
	l := &Loop{
		log: log.With("component", "connection_sync"), instance: instance, cfg: cfg, obs: obs,
		f:      NewFollower(ctl, cfg, instance != ""),
		states: make(chan bool, stateQueue),
	}
	l.logActions(l.f.Start())
	ctx, l.cancel = context.WithCancel(ctx)
	if obs != nil {
		l.wg.Go(func() {
			if err := obs.Run(ctx, nil); err != nil {
				l.log.Error("sync traffic no longer observed", "err", err)
			}
		})
	}
	l.wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case master := <-l.states:
				l.logActions(l.f.SetState(master))
			}
		}
	})
	return l
}

// Instance is the VRRP instance the loop follows ("" = none).
func (l *Loop) Instance() string { return l.instance }

// SetState hands over a transition of the followed instance; it never
// blocks the instance. Should the queue be full, the last one still
// wins: the follower reconciles from the kernel's state on the next.
func (l *Loop) SetState(master bool) {
	select {
	case l.states <- master:
	default:
		l.log.Error("sync state queue full; the next transition reconciles")
	}
}

// Update applies changed parameters; unchanged ones restart nothing.
func (l *Loop) Update(cfg Config) {
	l.mu.Lock()
	l.cfg = cfg
	l.mu.Unlock()
	l.logActions(l.f.Update(cfg))
}

// Config is the configuration in force.
func (l *Loop) Config() Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// Stop stops the sync daemons and the observer, and waits for the loop's
// goroutines.
func (l *Loop) Stop() {
	l.cancel()
	if l.obs != nil {
		l.obs.Close()
	}
	l.wg.Wait()
	l.logActions(l.f.Stop())
}

// LoopStatus is the loop's view for status and metrics.
type LoopStatus struct {
	Instance string
	Follower FollowerStatus
	Observed *ObserverSnapshot // nil: not observed
}

// Status returns the follower's view and, when observed, the traffic.
func (l *Loop) Status() LoopStatus {
	s := LoopStatus{Instance: l.instance, Follower: l.f.Status()}
	if l.obs != nil {
		snap := l.obs.Snapshot()
		s.Observed = &snap
	}
	return s
}

func (l *Loop) logActions(actions []Action, err error) {
	for _, a := range actions {
		l.log.Info("sync daemon", "action", a.String())
	}
	if err != nil {
		l.log.Error("sync daemon", "err", err)
	}
}
