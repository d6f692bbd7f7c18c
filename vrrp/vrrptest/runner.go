package vrrptest

import (
	"context"
	"slices"
	"sync"

	"github.com/lvsd/lvsd/vrrp"
)

// Runner is a fake script runner (vrrp.Runner): a command succeeds unless
// Fail made it fail, and every run is recorded.
type Runner struct {
	mu    sync.Mutex
	fails map[string]error // by argv[0]
	runs  [][]string
}

var _ vrrp.Runner = (*Runner)(nil)

// Fail makes the command argv0 fail with err from now on (nil: succeed).
func (r *Runner) Fail(argv0 string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fails == nil {
		r.fails = map[string]error{}
	}
	r.fails[argv0] = err
}

// Run records argv and returns the command's set result.
func (r *Runner) Run(ctx context.Context, argv []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, slices.Clone(argv))
	return r.fails[argv[0]]
}

// Runs lists every argv run so far, in order.
func (r *Runner) Runs() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.runs)
}

// Events records transitions; its OnEvent goes in NodeDeps.OnEvent.
type Events struct {
	mu     sync.Mutex
	events []vrrp.Event
}

// OnEvent records ev; it never blocks.
func (e *Events) OnEvent(ev vrrp.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
}

// Of lists the transitions of one instance, in order.
func (e *Events) Of(instance string) []vrrp.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []vrrp.Event
	for _, ev := range e.events {
		if ev.Instance == instance {
			out = append(out, ev)
		}
	}
	return out
}
