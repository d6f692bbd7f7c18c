package vrrp

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Runner runs a command to completion (notify and track scripts). The
// daemon's runner runs it as script_user, without a shell, and kills its
// whole process group when ctx ends.
type Runner interface {
	Run(ctx context.Context, argv []string) error
}

// NotifyTimeout bounds one notify script, so a hung script cannot hold
// back the next transition's.
const NotifyTimeout = 30 * time.Second

// Notifier runs an instance's notify scripts one at a time, in the order
// of the transitions, with the state and the instance name appended.
type Notifier struct {
	runner Runner
	log    *slog.Logger
	queue  chan Event
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	cfg Notify // a reload changes it in place, keeping the order
}

// NewNotifier starts the notifier of one instance; Stop ends it.
func NewNotifier(name string, cfg Notify, runner Runner, log *slog.Logger) *Notifier {
	ctx, cancel := context.WithCancel(context.Background())
	n := &Notifier{cfg: cfg, runner: runner, log: log.With("instance", name), queue: make(chan Event, 64),
		cancel: cancel, done: make(chan struct{})}
	go n.loop(ctx)
	return n
}

// SetConfig changes the scripts for the transitions to come.
func (n *Notifier) SetConfig(cfg Notify) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cfg = cfg
}

// Stop runs what is queued (the stop script of a shutdown among it),
// waiting at most NotifyTimeout for it, and ends the notifier.
func (n *Notifier) Stop() {
	n.cancel()
	select {
	case <-n.done:
	case <-time.After(NotifyTimeout):
		n.log.Error("notify scripts still running at stop; not waiting longer")
	}
}

// Notify queues ev; it never blocks the state machine. If 64 transitions
// are pending, this one's script is skipped and logged.
func (n *Notifier) Notify(ev Event) {
	if n.argv(ev.To) == nil {
		return
	}
	select {
	case n.queue <- ev:
	default:
		n.log.Error("notify queue full; script skipped", "state", ev.To)
	}
}

func (n *Notifier) argv(s State) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch s {
	case Master:
		return n.cfg.Master
	case Backup:
		return n.cfg.Backup
	case Fault:
		return n.cfg.Fault
	case Initialize:
		return n.cfg.Stop
	}
	return nil
}

func (n *Notifier) loop(ctx context.Context) {
	defer close(n.done)
	for {
		select {
		case ev := <-n.queue:
			n.run(ev)
		case <-ctx.Done():
			// The stop script runs at shutdown: drain what is queued.
			for {
				select {
				case ev := <-n.queue:
					n.run(ev)
				default:
					return
				}
			}
		}
	}
}

func (n *Notifier) run(ev Event) {
	argv := append(slices.Clone(n.argv(ev.To)), ev.To.String(), ev.Instance)
	ctx, cancel := context.WithTimeout(context.Background(), NotifyTimeout)
	defer cancel()
	start := time.Now()
	if err := n.runner.Run(ctx, argv); err != nil {
		n.log.Error("notify script failed", "state", ev.To, "argv", argv, "err", err)
		return
	}
	n.log.Info("notify script ran", "state", ev.To, "argv", argv, "took", time.Since(start).Round(time.Millisecond))
}
