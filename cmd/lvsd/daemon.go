package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/lvsd/lvsd/ipvs"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/vrrp"
)

// daemon is the running composition of one configuration: VRRP instances
// with their sockets, trackers and notifiers, and the control socket.
type daemon struct {
	cfg     *conf.Config
	log     *slog.Logger
	started time.Time
	runner  *scriptRunner

	sockets   map[socketKey]*vrrp.Socket
	announcer *vrrp.LinkAnnouncer
	instances []*vrrp.Instance
	byName    map[string]*vrrp.Instance
	director  *director // nil without virtual servers
}

type socketKey struct {
	iface string
	v6    bool
}

func newDaemon(cfg *conf.Config, log *slog.Logger) (*daemon, error) {
	runner, err := newScriptRunner(cfg.Global.ScriptUser)
	if err != nil {
		return nil, err
	}
	d := &daemon{
		cfg: cfg, log: log, started: time.Now(), runner: runner,
		sockets:   map[socketKey]*vrrp.Socket{},
		announcer: &vrrp.LinkAnnouncer{},
		byName:    map[string]*vrrp.Instance{},
	}
	// A plain VRRP pair needs no IPVS; with virtual servers, fail fast.
	if len(cfg.VirtualServers) > 0 {
		kernel, err := ipvs.Open("")
		if err != nil {
			return nil, err
		}
		if d.director, err = newDirector(cfg, kernel, log); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// run starts everything, serves until ctx ends, then stops in order:
// instances resign (priority 0) and drop their VIPs, then the sockets close.
func (d *daemon) run(ctx context.Context, hup <-chan os.Signal) error {
	defer d.announcer.Close()
	defer d.closeSockets()
	scripts := map[string]vrrp.TrackScript{}
	for _, ts := range d.cfg.TrackScripts {
		scripts[ts.Name] = ts
	}

	instCtx, stopInstances := context.WithCancel(context.Background())
	defer stopInstances()
	notifyCtx, stopNotify := context.WithCancel(context.Background())
	defer stopNotify()
	groups := map[string]*vrrp.Group{} // instance name → its sync group
	for _, sg := range d.cfg.SyncGroups {
		g := vrrp.NewGroup(sg.Name)
		for _, name := range sg.Instances {
			groups[name] = g
		}
		go g.Run(instCtx)
	}
	var wg sync.WaitGroup
	for _, ic := range d.cfg.Instances {
		in, err := d.newInstance(notifyCtx, ic, scripts, groups[ic.Name])
		if err != nil {
			return err
		}
		wg.Go(func() { in.Run(instCtx) })
	}
	for _, s := range d.sockets {
		go func() {
			if err := s.Serve(); err != nil {
				d.log.Error("VRRP socket failed", "err", err)
			}
		}()
	}
	if err := d.startTrackers(instCtx, scripts); err != nil {
		stopInstances()
		wg.Wait()
		return err
	}
	dirCtx, stopDirector := context.WithCancel(context.Background())
	defer stopDirector()
	dirDone := make(chan error, 1)
	if d.director != nil {
		go func() { dirDone <- d.director.run(dirCtx, d.runner) }()
	} else {
		close(dirDone)
	}
	ctl, err := d.listenControl()
	if err != nil {
		stopInstances()
		wg.Wait()
		return err
	}
	defer ctl.Close()
	d.log.Info("lvsd running", "version", version, "config", d.cfg.File, "instances", len(d.instances), "control_socket", d.cfg.Global.ControlSocket)

	for ctx.Err() == nil {
		select {
		case <-hup:
			d.log.Warn("SIGHUP: reload is not supported by this build yet; the running configuration stays")
		case <-ctx.Done():
		}
	}
	d.log.Info("stopping: resigning mastership and removing virtual IPs")
	stopInstances()
	wg.Wait()
	stopNotify()
	// The IPVS table stays as it is: a restart adopts it, and established
	// connections carry on meanwhile (flush_on_stop aside).
	stopDirector()
	if err := <-dirDone; err != nil {
		d.log.Error("director", "err", err)
	}
	if d.director != nil && d.cfg.Global.FlushOnStop {
		d.director.flush()
	}
	d.log.Info("lvsd stopped")
	return nil
}

func (d *daemon) newInstance(notifyCtx context.Context, ic vrrp.Config, scripts map[string]vrrp.TrackScript, group *vrrp.Group) (*vrrp.Instance, error) {
	v6 := ic.IPv6()
	key := socketKey{ic.Interface, v6}
	sock := d.sockets[key]
	if sock == nil {
		var err error
		if sock, err = vrrp.OpenSocket(ic.Interface, v6); err != nil {
			return nil, fmt.Errorf("instance %s: %w", ic.Name, err)
		}
		d.sockets[key] = sock
	}
	src := ic.SourceIP
	if !src.IsValid() {
		var err error
		if src, err = vrrp.PrimaryAddress(ic.Interface, v6, append(ic.VIPs, ic.VIPsExcluded...)); err != nil {
			return nil, fmt.Errorf("instance %s: %w", ic.Name, err)
		}
	}
	notifier := vrrp.NewNotifier(notifyCtx, ic.Name, ic.Notify, d.runner, d.log)
	onEvent := notifier.Notify
	if group != nil {
		onEvent = func(ev vrrp.Event) {
			notifier.Notify(ev)
			group.Observe(ev)
		}
	}
	in := vrrp.NewInstance(ic, vrrp.Deps{
		Transport:    sock.Transport(src, ic.UnicastPeers),
		Addresser:    vrrp.Netlink{},
		Announcer:    d.announcer,
		LocalIP:      src,
		TrackScripts: scripts,
		OnEvent:      onEvent,
		Group:        group,
		Log:          d.log,
	})
	if group != nil {
		group.Add(in)
	}
	if err := sock.Register(ic.VRID, in, len(ic.UnicastPeers) == 0); err != nil {
		return nil, fmt.Errorf("instance %s: %w", ic.Name, err)
	}
	d.instances = append(d.instances, in)
	d.byName[ic.Name] = in
	return in, nil
}

// startTrackers watches tracked interfaces and runs track scripts,
// reporting to the instances that track them.
func (d *daemon) startTrackers(ctx context.Context, scripts map[string]vrrp.TrackScript) error {
	trackers := map[string][]*vrrp.Instance{} // interface → instances
	users := map[string][]*vrrp.Instance{}    // script → instances
	for _, ic := range d.cfg.Instances {
		in := d.byName[ic.Name]
		for _, name := range ic.TrackInterfaces {
			trackers[name] = append(trackers[name], in)
		}
		for _, name := range ic.TrackScripts {
			users[name] = append(users[name], in)
		}
	}
	if len(trackers) > 0 {
		var names []string
		for name := range trackers {
			names = append(names, name)
		}
		err := vrrp.WatchInterfaces(ctx, names, func(name string, up bool) {
			for _, in := range trackers[name] {
				in.SetInterface(name, up)
			}
		})
		if err != nil {
			return err
		}
	}
	for name, ins := range users {
		t := vrrp.NewScriptTracker(scripts[name], d.runner, d.log, func(name string, ok bool) {
			for _, in := range ins {
				in.SetScript(name, ok)
			}
		})
		go t.Run(ctx)
	}
	return nil
}

func (d *daemon) closeSockets() {
	for _, s := range d.sockets {
		s.Close()
	}
}
