package vrrp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// scriptedRunner records each argv and answers from results in turn
// (nil error once they run out); a hang blocks until ctx ends.
type scriptedRunner struct {
	mu      sync.Mutex
	calls   [][]string
	results []error
	hang    bool
}

var errFail = errors.New("exit status 1")

func (r *scriptedRunner) Run(ctx context.Context, argv []string) error {
	r.mu.Lock()
	r.calls = append(r.calls, slices.Clone(argv))
	var err error
	if len(r.results) > 0 {
		err, r.results = r.results[0], r.results[1:]
	}
	hang := r.hang
	r.mu.Unlock()
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (r *scriptedRunner) argvs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		out = append(out, strings.Join(c, " "))
	}
	return out
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Notify scripts run one at a time in transition order, with the state
// and the instance name appended; a state without a script runs nothing.
func TestNotifyOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &scriptedRunner{}
		n := NewNotifier(t.Context(), "VI_1", Notify{
			Master: []string{"/bin/on-state", "m"},
			Backup: []string{"/bin/on-state", "b"},
			Stop:   []string{"/bin/on-state", "s"},
		}, r, quiet)
		for _, s := range []State{Backup, Master, Fault, Backup, Initialize} {
			n.Notify(Event{Instance: "VI_1", To: s})
		}
		n.Close() // drains: the stop script runs before the notifier ends
		<-n.Done()
		want := []string{
			"/bin/on-state b BACKUP VI_1",
			"/bin/on-state m MASTER VI_1",
			"/bin/on-state b BACKUP VI_1",
			"/bin/on-state s INIT VI_1",
		}
		if got := r.argvs(); !slices.Equal(got, want) {
			t.Errorf("ran %q, want %q", got, want)
		}
	})
}

// A hung notify script is ended by NotifyTimeout and the next one runs.
func TestNotifyTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &scriptedRunner{hang: true}
		n := NewNotifier(t.Context(), "VI_1", Notify{Master: []string{"/bin/m"}, Backup: []string{"/bin/b"}}, r, quiet)
		n.Notify(Event{Instance: "VI_1", To: Master})
		n.Notify(Event{Instance: "VI_1", To: Backup})
		time.Sleep(NotifyTimeout - time.Second)
		synctest.Wait()
		if got := len(r.argvs()); got != 1 {
			t.Fatalf("%d scripts started before the first timed out, want 1", got)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := r.argvs(); len(got) != 2 || got[1] != "/bin/b BACKUP VI_1" {
			t.Errorf("after the timeout: %q", got)
		}
		n.Close()
		<-n.Done() // the second script times out too
	})
}

// The first result is reported at once; later changes need rise
// successes or fall failures in a row.
func TestScriptTrackerRiseFall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ok, bad := error(nil), errFail
		r := &scriptedRunner{results: []error{bad, ok, bad, ok, ok, bad, bad, bad}}
		var reports []bool
		var mu sync.Mutex
		ts := TrackScript{Name: "s", Command: []string{"/bin/check"}, Interval: time.Second, Timeout: time.Second, Rise: 2, Fall: 3}
		tr := NewScriptTracker(ts, r, quiet, func(name string, ok bool) {
			mu.Lock()
			reports = append(reports, ok)
			mu.Unlock()
		})
		ctx, cancel := context.WithCancel(context.Background())
		go tr.Run(ctx)
		time.Sleep(7500 * time.Millisecond) // 8 runs: t = 0..7s
		cancel()
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		// bad → report false; ok,bad: no rise; ok,ok → true; bad,bad,bad → false.
		if want := []bool{false, true, false}; !slices.Equal(reports, want) {
			t.Errorf("reports %v, want %v", reports, want)
		}
	})
}
