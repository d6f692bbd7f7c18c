package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/lvsd/lvsd/conf"

	lvsync "github.com/lvsd/lvsd/sync"
)

// connSync runs the kernel's IPVS sync daemons for connection_sync: it
// follows the VRRP state of its instance (master sends, backup receives;
// both without an instance) and observes the sync traffic that arrives,
// so operators see sync work before they need it.
type connSync struct {
	log      *slog.Logger
	instance string // followed; fixed for the connSync's life (a change makes a new one)

	mu     sync.Mutex
	cfg    conf.ConnectionSync
	ctl    *lvsync.Kernel
	f      *lvsync.Follower
	obs    *lvsync.Observer // nil if the group could not be joined
	states chan bool        // the followed instance is master, in order
	cancel context.CancelFunc
	done   chan struct{}
}

func startConnSync(cs conf.ConnectionSync, log *slog.Logger) (*connSync, error) {
	ctl, err := lvsync.OpenKernel("")
	if err != nil {
		return nil, fmt.Errorf("connection_sync: %w", err)
	}
	c := &connSync{
		log: log.With("component", "connection_sync"), instance: cs.Instance, cfg: cs, ctl: ctl,
		f:      lvsync.NewFollower(ctl, cs.Daemon, cs.Instance != ""),
		states: make(chan bool, 64),
		done:   make(chan struct{}),
	}
	c.logActions(c.f.Start())
	var ctx context.Context
	ctx, c.cancel = context.WithCancel(context.Background())
	if c.obs, err = lvsync.Observe(cs.Daemon); err != nil {
		c.log.Warn("sync traffic not observed", "err", err)
	} else {
		go func() {
			if err := c.obs.Run(ctx, nil); err != nil {
				c.log.Error("sync traffic no longer observed", "err", err)
			}
		}()
	}
	go func() {
		defer close(c.done)
		for {
			select {
			case <-ctx.Done():
				return
			case master := <-c.states:
				c.logActions(c.f.SetState(master))
			}
		}
	}()
	return c, nil
}

// setState hands over a transition of the followed instance; it never
// blocks the instance. Should 64 be pending, the last one still wins:
// the follower reconciles from the kernel's state on the next.
func (c *connSync) setState(master bool) {
	select {
	case c.states <- master:
	default:
		c.log.Error("sync state queue full; the next transition reconciles")
	}
}

// update applies changed parameters; an unchanged configuration restarts
// nothing.
func (c *connSync) update(cs conf.ConnectionSync) {
	c.mu.Lock()
	c.cfg = cs
	c.mu.Unlock()
	c.logActions(c.f.Update(cs.Daemon))
}

func (c *connSync) daemonCfg() lvsync.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.Daemon
}

// stop stops the sync daemons and the observer.
func (c *connSync) stop() {
	c.cancel()
	<-c.done
	c.logActions(c.f.Stop())
	if c.obs != nil {
		c.obs.Close()
	}
	c.ctl.Close()
}

func (c *connSync) logActions(actions []lvsync.Action, err error) {
	for _, a := range actions {
		c.log.Info("sync daemon", "action", a.String())
	}
	if err != nil {
		c.log.Error("sync daemon", "err", err)
	}
}

func (c *connSync) status() *syncStatus {
	fs := c.f.Status()
	s := &syncStatus{Instance: c.instance, Master: fs.Master, Daemons: []string{}}
	for _, d := range fs.Running {
		s.Daemons = append(s.Daemons, d.String())
	}
	if fs.LastError != nil {
		s.LastError = fs.LastError.Error()
	}
	if c.obs != nil {
		snap := c.obs.Snapshot()
		ports := strconv.Itoa(int(snap.Port))
		if snap.Ports > 1 { // sync_ports: one port per kernel sync thread
			ports += "-" + strconv.Itoa(int(snap.Port)+snap.Ports-1)
		}
		o := &syncObserv{Group: fmt.Sprintf("%s:%s on %s", snap.Group, ports, snap.Interface), Peers: []syncPeer{}, Malformed: map[string]uint64{}}
		for _, p := range snap.Peers {
			o.Peers = append(o.Peers, syncPeer{Address: p.Addr.String(), SyncID: p.SyncID, Messages: p.Messages,
				Connections: p.Conns, Errors: p.Errors, LastSeen: p.LastSeen})
		}
		for k, n := range snap.Errors {
			o.Malformed[k.String()] = n
		}
		s.Observed = o
	}
	return s
}
