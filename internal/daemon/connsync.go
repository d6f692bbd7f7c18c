package daemon

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/internal/control"
	"github.com/lvsd/lvsd/vrrp"

	lvsync "github.com/lvsd/lvsd/sync"
)

// connSync is connection_sync running: the loop over the kernel's sync
// daemons, the handle it needs closed, and its observer.
type connSync struct {
	*lvsync.Loop
	kernel SyncKernel
	obs    *lvsync.Observer // nil: traffic not observed
}

func (d *Daemon) startConnSync(cs conf.ConnectionSync) (*connSync, error) {
	kernel, err := d.host.OpenSync()
	if err != nil {
		return nil, fmt.Errorf("connection_sync: %w", err)
	}
	var obs *lvsync.Observer
	if d.host.Observe != nil {
		if obs, err = d.host.Observe(cs.Daemon); err != nil {
			d.log.Warn("sync traffic not observed", "component", "connection_sync", "err", err)
			obs = nil
		}
	}
	return &connSync{Loop: lvsync.StartLoop(d.ctx, kernel, obs, cs.Daemon, cs.Instance, d.log), kernel: kernel, obs: obs}, nil
}

func (c *connSync) stop() {
	c.Stop()
	c.kernel.Close()
}

// onVRRPEvent runs on an instance's goroutine, after its notify script
// and sync group: connection sync follows its instance, without d.mu.
func (d *Daemon) onVRRPEvent(ev vrrp.Event) {
	if cs := d.connSync.Load(); cs != nil && cs.Instance() == ev.Instance {
		cs.SetState(ev.To == vrrp.Master)
	}
}

// applyConnSync starts, updates, replaces or stops connection sync.
// d.mu is held.
func (d *Daemon) applyConnSync(cfg *conf.Config, note func(string, ...any)) error {
	cur := d.connSync.Load()
	want := cfg.ConnectionSync
	switch {
	case want == nil && cur == nil:
		return nil
	case want == nil:
		d.connSync.Store(nil)
		cur.stop()
		note("connection sync stopped")
		return nil
	case cur != nil && cur.Instance() == want.Instance:
		if !reflect.DeepEqual(cur.Config(), want.Daemon) {
			cur.Update(want.Daemon)
			note("connection sync updated")
		}
		return nil
	case cur != nil:
		d.connSync.Store(nil)
		cur.stop()
	}
	cs, err := d.startConnSync(*want)
	if err != nil {
		return err
	}
	d.connSync.Store(cs)
	if r, ok := d.node.Instance(want.Instance); ok {
		if st, ok := r.Instance.Status(); ok {
			cs.SetState(st.State == vrrp.Master)
		}
	}
	note("connection sync started")
	return nil
}

// syncStatus is connection_sync as `lvsd status` shows it.
func syncStatus(ls lvsync.LoopStatus) *control.Sync {
	fs := ls.Follower
	s := &control.Sync{Instance: ls.Instance, Master: fs.Master, Daemons: []string{}}
	for _, d := range fs.Running {
		s.Daemons = append(s.Daemons, d.String())
	}
	if fs.LastError != nil {
		s.LastError = fs.LastError.Error()
	}
	if snap := ls.Observed; snap != nil {
		ports := strconv.Itoa(int(snap.Port))
		if snap.Ports > 1 { // sync_ports: one port per kernel sync thread
			ports += "-" + strconv.Itoa(int(snap.Port)+snap.Ports-1)
		}
		o := &control.SyncObserved{Group: fmt.Sprintf("%s:%s on %s", snap.Group, ports, snap.Interface), Peers: []control.SyncPeer{}, Malformed: map[string]uint64{}}
		for _, p := range snap.Peers {
			o.Peers = append(o.Peers, control.SyncPeer{Address: p.Addr.String(), SyncID: p.SyncID, Messages: p.Messages,
				Connections: p.Conns, Errors: p.Errors, LastSeen: p.LastSeen})
		}
		for k, n := range snap.Errors {
			o.Malformed[k.String()] = n
		}
		s.Observed = o
	}
	return s
}
