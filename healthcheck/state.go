package healthcheck

import (
	"sync"
	"time"
)

// Key names one monitored real server. The daemon chooses it, unique per
// monitor (e.g. "web/192.0.2.21:80": a server in two services is checked
// once per service, each with its own check).
type Key string

// State is a real server's health as the monitor has decided it.
type State uint8

const (
	Down State = iota // out of IPVS (or weight 0 with inhibit_on_failure)
	Up                // in IPVS
)

func (s State) String() string {
	if s == Up {
		return "up"
	}
	return "down"
}

// Event is one transition of one real server.
type Event struct {
	Key    Key
	State  State     // the new state
	Reason string    // the reason of the check that completed the streak
	At     time.Time // when that check ended
	Count  int       // consecutive results that decided it: Rise or Fall
}

// Status is what the status command shows of one real server.
type Status struct {
	Key       Key
	State     State
	Since     time.Time // last transition, or when monitoring began
	Pending   int       // consecutive results against State so far
	Checks    uint64    // checks run since monitoring began
	LastCheck time.Time // start of the last check; zero before the first
	Last      Result    // the last check's result; zero before the first
}

// eventQueue hands events from the checkers to one delivering goroutine.
// It is unbounded so that a slow consumer never blocks a checker; its
// growth is bounded by the transition rate, at most one per target every
// min(Rise, Fall) × Interval.
type eventQueue struct {
	mu      sync.Mutex
	pending []Event
	wake    chan struct{} // capacity 1: a signal, not a carrier
}

func newEventQueue() *eventQueue {
	return &eventQueue{wake: make(chan struct{}, 1)}
}

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	q.pending = append(q.pending, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // already signalled
	}
}

// take returns the queued events, oldest first, and empties the queue.
func (q *eventQueue) take() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.pending
	q.pending = nil
	return evs
}
