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
// whole session when ctx ends.
type Runner interface {
	Run(ctx context.Context, argv []string) error
}

// NotifyTimeout bounds one notify script, so a hung script cannot hold
// back the next transition's forever.
const NotifyTimeout = 30 * time.Second

// StopScriptGrace is how long the notify scripts still running when the
// node stops (the stop scripts above all) get in total, counted once every
// instance has resigned; then they are killed. The resignations never
// wait for a script (keepalived neither): systemd's stop timeout must not
// catch lvsd holding a VIP the peer has taken.
const StopScriptGrace = 2 * time.Second

// Notifier runs an instance's notify scripts one at a time, in the order
// of the transitions, with the state and the instance name appended, on
// a goroutine of its own: the state machine, a stop and a reload never
// wait for a script.
type Notifier struct {
	name   string
	runner Runner
	log    *slog.Logger
	queue  chan Event
	kill   context.Context // its end kills the script running and skips the rest
	closed chan struct{}   // Close: no more events
	done   chan struct{}
	once   sync.Once

	mu    sync.Mutex
	cfg   Notify          // a reload changes it in place, keeping the order
	after <-chan struct{} // scripts wait for it to close (After)
}

// NewNotifier starts the notifier of one instance; it ends after Close,
// once what was queued has run, or when kill ends.
func NewNotifier(kill context.Context, name string, cfg Notify, runner Runner, log *slog.Logger) *Notifier {
	n := &Notifier{name: name, cfg: cfg, runner: runner, log: log.With("instance", name), queue: make(chan Event, 64),
		kill: kill, closed: make(chan struct{}), done: make(chan struct{})}
	go n.loop()
	return n
}

// SetConfig changes the scripts for the transitions to come.
func (n *Notifier) SetConfig(cfg Notify) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cfg = cfg
}

// After makes the scripts not yet started, and the notifier's end, wait
// until after is closed (nil: no wait): the stop scripts of several
// instances run one at a time, in the order they stopped.
func (n *Notifier) After(after <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.after = after
}

// Close says no transition comes any more: what is queued (the stop
// script of a stopped instance among it) runs, then the notifier ends. It
// does not wait.
func (n *Notifier) Close() { n.once.Do(func() { close(n.closed) }) }

// Done is closed once the notifier has ended.
func (n *Notifier) Done() <-chan struct{} { return n.done }

// Finished reports whether the notifier has ended.
func (n *Notifier) Finished() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
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

func (n *Notifier) loop() {
	defer close(n.done)
	for {
		select {
		case ev := <-n.queue:
			n.run(ev)
		case <-n.closed:
			n.turn() // the end waits too, so the notifiers' ends are in order
			for {
				select {
				case ev := <-n.queue:
					n.run(ev)
				default:
					return
				}
			}
		case <-n.kill.Done():
			for len(n.queue) > 0 {
				n.run(<-n.queue) // each is logged as skipped
			}
			return
		}
	}
}

// turn waits for the scripts this one comes after; false if the
// notifier was killed meanwhile.
func (n *Notifier) turn() bool {
	n.mu.Lock()
	after := n.after
	n.mu.Unlock()
	if after != nil {
		select {
		case <-after:
		case <-n.kill.Done():
		}
	}
	return n.kill.Err() == nil
}

func (n *Notifier) run(ev Event) {
	base := n.argv(ev.To)
	if base == nil {
		return // a reload took the script away since
	}
	argv := append(slices.Clone(base), ev.To.String(), ev.Instance)
	if !n.turn() {
		n.log.Warn("notify script skipped: lvsd is stopping", "state", ev.To, "argv", argv)
		return
	}
	ctx, cancel := context.WithTimeout(n.kill, NotifyTimeout)
	defer cancel()
	start := time.Now()
	if err := n.runner.Run(ctx, argv); err != nil {
		n.log.Error("notify script failed", "state", ev.To, "argv", argv, "err", err)
		return
	}
	n.log.Info("notify script ran", "state", ev.To, "argv", argv, "took", time.Since(start).Round(time.Millisecond))
}
