package vrrp_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvsd/lvsd/vrrp"
	"github.com/lvsd/lvsd/vrrp/vrrptest"
)

// hangingRunner is a script runner on which the commands named in hang
// run until their context ends (a hung script the runner kills); the
// others return at once. It records each start and each end.
type hangingRunner struct {
	hang map[string]bool

	mu     sync.Mutex
	starts []string
	killed map[string]time.Time
}

func (r *hangingRunner) Run(ctx context.Context, argv []string) error {
	r.mu.Lock()
	r.starts = append(r.starts, argv[0])
	r.mu.Unlock()
	if !r.hang[argv[0]] {
		return nil
	}
	<-ctx.Done()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.killed == nil {
		r.killed = map[string]time.Time{}
	}
	r.killed[argv[0]] = time.Now()
	return ctx.Err()
}

func (r *hangingRunner) started() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.starts)
}

func (r *hangingRunner) killedAt(argv0 string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.killed[argv0]
}

// twoMasters starts host A as master of VI_1 and VI_2, each with a stop
// script, its scripts run by r, and host B as their backup; it returns
// once A is master of both.
func twoMasters(t *testing.T, r vrrp.Runner) (ha, hb *vrrptest.Host, a *vrrp.Node, b *director) {
	t.Helper()
	ha, hb = pair()
	deps := ha.Deps(quiet())
	deps.Runner = r
	events := &vrrptest.Events{}
	deps.OnEvent = events.OnEvent
	a = vrrp.NewNode(t.Context(), deps)
	t.Cleanup(a.Stop)
	vi1, vi2 := instance("VI_1", "eth0", 51, 150, vip1), instance("VI_2", "eth0", 52, 150, vip2)
	vi1.Notify.Stop, vi2.Notify.Stop = []string{"/stop-VI_1"}, []string{"/stop-VI_2"}
	if _, err := a.Apply(vrrp.NodeConfig{Instances: []vrrp.Config{vi1, vi2}}); err != nil {
		t.Fatal(err)
	}
	b = startDirector(t, hb, vrrp.NodeConfig{Instances: []vrrp.Config{
		instance("VI_1", "eth0", 51, 100, vip1), instance("VI_2", "eth0", 52, 100, vip2)}})
	time.Sleep(10 * time.Second)
	if !ha.Holds(vip1) || !ha.Holds(vip2) || hb.Holds(vip1) || hb.Holds(vip2) {
		t.Fatal("A does not hold both VIPs alone")
	}
	return ha, hb, a, b
}

// A stop script that hangs holds up neither the next instance's
// resignation nor the end of the stop beyond StopScriptGrace: both
// instances resign at once (the peer takes both over after skew), the
// hung script is killed at the grace, and the next stop script, which
// comes after it, is skipped.
func TestNodeStopNeverWaitsOnScripts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &hangingRunner{hang: map[string]bool{"/stop-VI_1": true}}
		ha, _, a, b := twoMasters(t, r)
		stop := time.Now()
		a.Stop()
		if took := time.Since(stop); took != vrrp.StopScriptGrace {
			t.Errorf("Stop took %s, want StopScriptGrace %s", took, vrrp.StopScriptGrace)
		}
		if got := r.killedAt("/stop-VI_1").Sub(stop); got != vrrp.StopScriptGrace {
			t.Errorf("the hung stop script was killed %s after the stop, want %s", got, vrrp.StopScriptGrace)
		}
		if got := r.started(); !slices.Equal(got, []string{"/stop-VI_1"}) {
			t.Errorf("scripts started %q; want VI_1's stop script only (VI_2's waits for it)", got)
		}
		if ha.Holds(vip1) || ha.Holds(vip2) {
			t.Error("A holds a VIP after its stop")
		}
		time.Sleep(5 * time.Second)
		for _, name := range []string{"VI_1", "VI_2"} {
			if got, want := b.lastTo(name, vrrp.Master).Sub(stop), vrrp.Skew(vrrp.V3, 100, time.Second); got != want {
				t.Errorf("B took %s over %s after A's stop, want skew %s (A resigned at once)", name, got, want)
			}
		}
	})
}

// A reload that removes an instance whose stop script hangs returns at
// once: the script runs on, detached, until NotifyTimeout kills it, and a
// stop meanwhile waits for it StopScriptGrace at most.
func TestNodeReloadNeverWaitsOnScripts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &hangingRunner{hang: map[string]bool{"/stop-VI_1": true}}
		ha, _, a, _ := twoMasters(t, r)
		vi2 := instance("VI_2", "eth0", 52, 150, vip2)
		vi2.Notify.Stop = []string{"/stop-VI_2"}
		reload := time.Now()
		summary, err := a.Apply(vrrp.NodeConfig{Instances: []vrrp.Config{vi2}})
		if err != nil || !slices.Equal(summary, []string{"instance VI_1 removed"}) {
			t.Fatalf("reload: %q, %v", summary, err)
		}
		if took := time.Since(reload); took != 0 {
			t.Errorf("the reload took %s, want no wait on the stop script", took)
		}
		synctest.Wait()
		if ha.Holds(vip1) || !ha.Holds(vip2) {
			t.Error("after the reload A should hold VI_2's VIP only")
		}
		if got := r.started(); !slices.Equal(got, []string{"/stop-VI_1"}) {
			t.Errorf("scripts started %q, want VI_1's stop script", got)
		}

		time.Sleep(10 * time.Second) // the script still hangs
		stop := time.Now()
		a.Stop()
		if took := time.Since(stop); took != vrrp.StopScriptGrace {
			t.Errorf("Stop took %s, want StopScriptGrace %s", took, vrrp.StopScriptGrace)
		}
		if got := r.killedAt("/stop-VI_1").Sub(reload); got != 10*time.Second+vrrp.StopScriptGrace {
			t.Errorf("the hung script was killed %s after the reload, want at the stop's grace", got)
		}
	})
}

// A hung stop script of a removed instance is killed at NotifyTimeout,
// and the stop script of the next instance removed runs after it.
func TestNodeRemovedScriptsRunInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &hangingRunner{hang: map[string]bool{"/stop-VI_1": true}}
		_, _, a, _ := twoMasters(t, r)
		vi2 := instance("VI_2", "eth0", 52, 150, vip2)
		vi2.Notify.Stop = []string{"/stop-VI_2"}
		reload := time.Now()
		if _, err := a.Apply(vrrp.NodeConfig{Instances: []vrrp.Config{vi2}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if _, err := a.Apply(vrrp.NodeConfig{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(vrrp.NotifyTimeout)
		if got := r.killedAt("/stop-VI_1").Sub(reload); got != vrrp.NotifyTimeout {
			t.Errorf("the hung stop script was killed %s after it started, want NotifyTimeout", got)
		}
		if got := r.started(); !slices.Equal(got, []string{"/stop-VI_1", "/stop-VI_2"}) {
			t.Errorf("scripts started %q, want VI_1's stop script, then VI_2's", got)
		}
	})
}
