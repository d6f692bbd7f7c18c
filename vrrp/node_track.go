package vrrp

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
)

// scriptTrack is one running track_script.
type scriptTrack struct {
	cfg    TrackScript
	cancel context.CancelFunc
	ok     atomic.Pointer[bool] // its last reported result; nil: none yet
}

// trackedBy says which instances track which script and interface, and
// which run on which interface (own: they hold their VIPs there).
type trackedBy struct {
	scripts, ifaces, own map[string][]*Instance
}

// applyTrackers keeps each track_script running across reloads unless its
// definition changed (a restart would report a first result past its
// rise/fall), sends the last known results to instances new to a script,
// and restarts the interface watch, which reports link states as they
// are. Results reach instances through n.tracked, read without n.mu.
func (n *Node) applyTrackers(instances []Config, scripts map[string]TrackScript) error {
	users := map[string][]*Instance{}  // script → instances
	ifaces := map[string][]*Instance{} // interface → instances
	own := map[string][]*Instance{}    // interface → instances on it
	for _, ic := range instances {
		m := n.instances[ic.Name]
		if m == nil {
			continue
		}
		for _, name := range ic.TrackScripts {
			users[name] = append(users[name], m.in)
		}
		own[ic.Interface] = append(own[ic.Interface], m.in)
		// An instance always tracks its own interface, as keepalived
		// does: a master on a link that is down would hold VIPs nobody
		// can reach while its peer takes over.
		for _, name := range append([]string{ic.Interface}, ic.TrackInterfaces...) {
			if !slices.Contains(ifaces[name], m.in) {
				ifaces[name] = append(ifaces[name], m.in)
			}
		}
	}
	n.tracked.Store(&trackedBy{scripts: users, ifaces: ifaces, own: own})
	n.watchAddresses(own)
	for name, tr := range n.trackers {
		if !reflect.DeepEqual(scripts[name], tr.cfg) || users[name] == nil {
			tr.cancel()
			delete(n.trackers, name)
		}
	}
	for name, ins := range users {
		if tr := n.trackers[name]; tr != nil {
			if ok := tr.ok.Load(); ok != nil {
				for _, in := range ins {
					in.SetScript(name, *ok) // a no-op for instances that knew it
				}
			}
			continue
		}
		ctx, cancel := context.WithCancel(n.ctx)
		tr := &scriptTrack{cfg: scripts[name], cancel: cancel}
		n.trackers[name] = tr
		st := NewScriptTracker(tr.cfg, n.deps.Runner, n.log, func(name string, ok bool) {
			tr.ok.Store(&ok)
			for _, in := range n.tracked.Load().scripts[name] {
				in.SetScript(name, ok)
			}
		})
		n.wg.Go(func() { st.Run(ctx) })
	}
	if n.stopWatch != nil {
		n.stopWatch()
	}
	var ctx context.Context
	ctx, n.stopWatch = context.WithCancel(n.ctx)
	if len(ifaces) == 0 {
		return nil
	}
	var names []string
	for name := range ifaces {
		names = append(names, name)
	}
	return n.watch(ctx, names)
}

// watch runs the interface watch until ctx ends. It returns once every
// interface's first state is reported (so Apply ends with the instances
// knowing their links), or the error that keeps it from watching.
func (n *Node) watch(ctx context.Context, names []string) error {
	ready := make(chan struct{})
	var once sync.Once
	left := len(names) // touched only by the watch's report
	failed := make(chan error, 1)
	n.wg.Go(func() {
		err := n.deps.WatchInterfaces(ctx, names, func(name string, up bool) {
			n.linkChanged(name, up)
			if left--; left == 0 {
				once.Do(func() { close(ready) })
			}
		})
		select {
		case <-ready:
			if err != nil {
				n.log.Error("interface watch ended: link changes are no longer followed", "err", err)
			}
		default:
			failed <- err // Apply reports it
		}
	})
	select {
	case <-ready:
		return nil
	case err := <-failed:
		return err
	}
}

// linkChanged is one report of the interface watch.
func (n *Node) linkChanged(name string, up bool) {
	if up {
		n.refreshSockets(name)
	}
	for _, in := range n.tracked.Load().ifaces[name] {
		in.SetInterface(name, up)
	}
}
