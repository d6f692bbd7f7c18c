package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/internal/control"

	lvsync "github.com/lvsd/lvsd/sync"
)

// connSync is connection_sync on the kernel: a sync.Loop over the
// kernel's sync daemons with the observer of the sync group.
type connSync struct {
	*lvsync.Loop
	instance string
	ctl      *lvsync.Kernel
	obs      *lvsync.Observer // nil if the group could not be joined
}

func startConnSync(cs conf.ConnectionSync, log *slog.Logger) (*connSync, error) {
	ctl, err := lvsync.OpenKernel("")
	if err != nil {
		return nil, fmt.Errorf("connection_sync: %w", err)
	}
	obs, err := lvsync.Observe(cs.Daemon)
	if err != nil {
		log.Warn("sync traffic not observed", "component", "connection_sync", "err", err)
		obs = nil
	}
	return &connSync{
		Loop:     lvsync.StartLoop(context.Background(), ctl, obs, cs.Daemon, cs.Instance, log),
		instance: cs.Instance, ctl: ctl, obs: obs,
	}, nil
}

func (c *connSync) setState(master bool)          { c.SetState(master) }
func (c *connSync) update(cs conf.ConnectionSync) { c.Update(cs.Daemon) }
func (c *connSync) daemonCfg() lvsync.Config      { return c.Config() }
func (c *connSync) stop()                         { c.Stop(); c.ctl.Close() }
func (c *connSync) status() *control.Sync         { return syncStatus(c.Status()) }

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
