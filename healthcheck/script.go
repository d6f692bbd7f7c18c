package healthcheck

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
)

// errStillRunning fails a check whose previous run has not returned yet.
var errStillRunning = errors.New("previous run still running")

// scriptChecker is up when the command exits 0 within the timeout. The
// command gets no arguments beyond its own argv.
type scriptChecker struct {
	argv   []string
	runner Runner
	// running is set while the runner has a run in flight, which can
	// outlive its Check: the daemon's runner returns only once it has
	// killed the process group, a grace period after the timeout.
	running atomic.Bool
}

func newScriptChecker(argv []string, runner Runner) *scriptChecker {
	return &scriptChecker{argv: slices.Clone(argv), runner: runner}
}

// Check runs the command on a goroutine and answers at the deadline even
// if the runner has not returned yet, so the timeout bounds the check
// whatever the runner does. A run still in flight at the next check fails
// that check instead of starting a second process beside it.
func (c *scriptChecker) Check(ctx context.Context) Result {
	clk := startClock(ctx)
	if !c.running.CompareAndSwap(false, true) {
		return clk.down(errStillRunning, "%s", errStillRunning)
	}
	done := make(chan error, 1)
	go func() {
		err := c.runner.Run(ctx, c.argv)
		c.running.Store(false) // before done: the next Check may follow at once
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	switch {
	case err == nil:
		return clk.up("exit 0")
	case ctx.Err() != nil:
		return clk.failed(ctx, "running "+c.argv[0], err)
	}
	return clk.down(err, "%s: %s", c.argv[0], err)
}
