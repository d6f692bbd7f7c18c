package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/internal/director"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
)

// daemon is the running composition of one configuration: VRRP instances
// with their sockets, trackers, notifiers and sync groups, the director
// of the IPVS table, and the control socket. reload swaps the
// configuration by difference.
type daemon struct {
	log       *slog.Logger
	level     *slog.LevelVar
	started   time.Time
	announcer *vrrp.LinkAnnouncer

	// mu serialises reload with status and stop. Never take it from an
	// instance's goroutine (OnEvent): reload waits on those goroutines.
	mu           sync.Mutex
	cfg          *conf.Config
	runner       *runnerRef
	sockMu       sync.Mutex // guards sockets, also read by the interface watcher
	sockets      map[socketKey]*vrrp.Socket
	instances    map[string]*managed
	stopTrackers context.CancelFunc
	stopGroups   context.CancelFunc
	director     *director.Director // nil until the configuration has virtual servers
	stopping     bool               // set by stopAll: reloads and drills are refused
	trackers     map[string]*scriptTrack
	dirCtx       context.Context
	dirDone      chan error

	groups   sync.Map                  // instance name → *vrrp.Group; read from OnEvent
	tracked  atomic.Pointer[trackedBy] // who tracks which script and interface; read by trackers
	connSync atomic.Pointer[connSync]  // nil without connection_sync; read from OnEvent
	reloadOK atomic.Uint64
	reloadKO atomic.Uint64
}

type socketKey struct {
	iface string
	v6    bool
}

// managed is one running instance.
type managed struct {
	in       *vrrp.Instance
	cfg      vrrp.Config
	src      netip.Addr
	notifier *vrrp.Notifier
	stop     context.CancelFunc
	done     chan struct{}
}

func newDaemon(cfg *conf.Config, log *slog.Logger, level *slog.LevelVar) (*daemon, error) {
	runner, err := newScriptRunner(cfg.Global.ScriptUser)
	if err != nil {
		return nil, err
	}
	d := &daemon{
		log: log, level: level, started: time.Now(), announcer: &vrrp.LinkAnnouncer{},
		cfg: cfg, runner: &runnerRef{},
		sockets:   map[socketKey]*vrrp.Socket{},
		instances: map[string]*managed{},
		trackers:  map[string]*scriptTrack{},
	}
	d.runner.Store(runner)
	// A plain VRRP pair needs no IPVS; with virtual servers, fail fast.
	if len(cfg.VirtualServers) > 0 {
		if err := d.openDirector(cfg); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *daemon) openDirector(cfg *conf.Config) error {
	kernel, err := ipvs.Open("")
	if err != nil {
		return err
	}
	d.director, err = director.New(cfg, kernel, d.runner, d.log)
	return err
}

// run starts everything, serves until ctx ends, then stops in order:
// instances resign (priority 0) and drop their VIPs, the sockets close,
// and the IPVS table stays as it is unless flush_on_stop.
func (d *daemon) run(ctx context.Context, hup <-chan os.Signal) error {
	defer d.announcer.Close()
	defer d.closeSockets()
	var dirStop context.CancelFunc
	d.dirCtx, dirStop = context.WithCancel(context.Background())
	defer dirStop()

	d.mu.Lock()
	err := d.apply(d.cfg, nil)
	d.mu.Unlock()
	if err != nil {
		d.stopAll()
		return err
	}
	ctl, err := d.listenControl()
	if err != nil {
		d.stopAll()
		return err
	}
	defer ctl.Close()
	if addr := d.cfg.Global.MetricsListen; addr != "" {
		mctx, stopMetrics := context.WithCancel(context.Background())
		defer stopMetrics()
		if err := d.serveMetrics(mctx, addr); err != nil {
			d.stopAll()
			return err
		}
	}
	d.log.Info("lvsd running", "version", version, "config", d.cfg.File, "instances", len(d.instances), "control_socket", d.cfg.Global.ControlSocket)
	d.sdNotify("READY=1\nSTATUS=running " + d.cfg.File)
	wdCtx, stopWatchdog := context.WithCancel(context.Background())
	defer stopWatchdog()
	go d.watchdog(wdCtx)

	for ctx.Err() == nil {
		select {
		case <-hup:
			if summary, err := d.reload(); err != nil {
				d.log.Error("SIGHUP: reload rejected; the running configuration stays", "err", err)
			} else {
				d.log.Info("SIGHUP: reloaded", "changes", strings.Join(summary, "; "))
			}
		case <-ctx.Done():
		}
	}
	d.sdNotify("STOPPING=1")
	d.log.Info("stopping: resigning mastership and removing virtual IPs")
	ctl.Close() // no reload or drill from here on
	d.stopAll()
	// The IPVS table stays as it is: a restart adopts it, and established
	// connections carry on meanwhile (flush_on_stop aside).
	dirStop()
	d.mu.Lock()
	dir, dirDone, flush := d.director, d.dirDone, d.cfg.Global.FlushOnStop
	d.mu.Unlock()
	if dir != nil {
		if err := <-dirDone; err != nil {
			d.log.Error("director", "err", err)
		}
		if flush {
			dir.Flush()
		}
	}
	d.log.Info("lvsd stopped")
	return nil
}

// stopAll stops the instances (they resign), trackers and groups.
func (d *daemon) stopAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopping = true
	for name, m := range d.instances {
		d.stopInstance(name, m)
	}
	if cs := d.connSync.Swap(nil); cs != nil {
		cs.stop()
	}
	if d.stopTrackers != nil {
		d.stopTrackers()
	}
	for _, tr := range d.trackers {
		tr.cancel()
	}
	if d.stopGroups != nil {
		d.stopGroups()
	}
}

// reload loads the file again and applies it by difference. An invalid
// file, or one this host cannot run, changes nothing.
func (d *daemon) reload() ([]string, error) {
	d.sdNotify("RELOADING=1")
	defer d.sdNotify("READY=1")
	d.mu.Lock()
	file := d.cfg.File
	d.mu.Unlock()
	cfg, diags := conf.Load(file)
	if len(diags) > 0 {
		d.reloadKO.Add(1)
		var b strings.Builder
		conf.WriteDiagnostics(&b, diags)
		return nil, &reloadError{msg: strings.TrimSpace(b.String())}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		d.reloadKO.Add(1)
		return nil, errStopping
	}
	var summary []string
	if err := d.apply(cfg, &summary); err != nil {
		d.reloadKO.Add(1)
		return summary, fmt.Errorf("applied in part (%s); these failed: %w", strings.Join(summary, "; "), err)
	}
	d.reloadOK.Add(1)
	if len(summary) == 0 {
		summary = []string{"no change"}
	}
	return summary, nil
}

// errStopping refuses a reload or drill that raced the stop.
var errStopping = errors.New("lvsd is stopping: refused")

type reloadError struct{ msg string }

func (e *reloadError) Error() string { return e.msg }

// apply makes the running daemon match cfg, changing only what differs.
// summary is nil at start (everything is new) and collects what a reload
// did otherwise. d.mu is held.
func (d *daemon) apply(cfg *conf.Config, summary *[]string) error {
	initial := summary == nil
	note := func(format string, args ...any) {
		if !initial {
			*summary = append(*summary, fmt.Sprintf(format, args...))
		}
	}
	old := d.cfg
	if d.stopping {
		return errStopping
	}
	if !initial && cfg.Global.ScriptUser != old.Global.ScriptUser {
		r, err := newScriptRunner(cfg.Global.ScriptUser)
		if err != nil {
			return err
		}
		d.runner.Store(r) // every script from now on, checks and notify included
		note("script_user %s", cfg.Global.ScriptUser)
	}
	if !initial {
		if cfg.Global.ControlSocket != old.Global.ControlSocket || cfg.Global.MetricsListen != old.Global.MetricsListen {
			note("control_socket and metrics_listen take effect at the next restart")
		}
		if cfg.Global.LogLevel != old.Global.LogLevel {
			note("log_level %s", cfg.Global.LogLevel)
		}
	}
	d.level.Set(cfg.Global.LogLevel)
	scripts := map[string]vrrp.TrackScript{}
	for _, ts := range cfg.TrackScripts {
		scripts[ts.Name] = ts
	}

	// Sync groups first, so new members join them as they start.
	groupsChanged := initial || !reflect.DeepEqual(cfg.SyncGroups, old.SyncGroups)
	var groupCtx context.Context
	var stopOldGroups context.CancelFunc
	if groupsChanged {
		stopOldGroups = d.stopGroups
		groupCtx, d.stopGroups = context.WithCancel(context.Background())
		d.groups.Clear()
		for _, sg := range cfg.SyncGroups {
			g := vrrp.NewGroup(sg.Name)
			for _, name := range sg.Instances {
				d.groups.Store(name, g)
			}
			go g.Run(groupCtx)
		}
		note("sync groups rebuilt")
	}

	var errs []error
	for name, m := range d.instances {
		if !slices.ContainsFunc(cfg.Instances, func(c vrrp.Config) bool { return c.Name == name }) {
			d.stopInstance(name, m)
			note("instance %s removed", name)
		}
	}
	for _, ic := range cfg.Instances {
		m := d.instances[ic.Name]
		switch {
		case m == nil:
			if err := d.startInstance(ic, scripts); err != nil {
				errs = append(errs, err)
				continue
			}
			note("instance %s added", ic.Name)
		case reflect.DeepEqual(m.cfg, ic):
			// unchanged: nothing reaches the wire
		default:
			if err := d.updateInstance(m, ic, scripts); err != nil {
				errs = append(errs, err)
				continue
			}
			note("instance %s updated", ic.Name)
		}
		if groupsChanged {
			g, _ := d.groups.Load(ic.Name)
			group, _ := g.(*vrrp.Group)
			if group != nil {
				group.Add(d.instances[ic.Name].in)
			}
			d.instances[ic.Name].in.SetGroup(group)
		}
	}
	if stopOldGroups != nil {
		stopOldGroups()
	}

	if err := d.applyTrackers(cfg, scripts); err != nil {
		errs = append(errs, err)
	}

	if err := d.applyConnSync(cfg, note); err != nil {
		errs = append(errs, err)
	}

	if len(cfg.VirtualServers) > 0 && d.director == nil {
		if err := d.openDirector(cfg); err != nil {
			errs = append(errs, err)
		}
	} else if d.director != nil && !initial {
		ops, err := d.director.Update(cfg)
		if err != nil {
			errs = append(errs, err)
		}
		if ops > 0 {
			note("%d real server or service changes", ops)
		}
	}
	if d.director != nil && d.dirDone == nil {
		d.dirDone = make(chan error, 1)
		dir := d.director
		go func() { d.dirDone <- dir.Run(d.dirCtx, d.runner) }()
	}
	d.cfg = cfg
	return errors.Join(errs...)
}

func (d *daemon) socket(ic vrrp.Config) (*vrrp.Socket, error) {
	d.sockMu.Lock()
	defer d.sockMu.Unlock()
	key := socketKey{ic.Interface, ic.IPv6()}
	if s := d.sockets[key]; s != nil {
		return s, nil
	}
	s, err := vrrp.OpenSocket(ic.Interface, ic.IPv6())
	if err != nil {
		return nil, fmt.Errorf("instance %s: %w", ic.Name, err)
	}
	d.sockets[key] = s
	go s.Serve(func(err error) {
		d.log.Error("VRRP socket cannot read: its instances are in FAULT until it reopens", "interface", ic.Interface, "err", err)
	})
	return s, nil
}

func (d *daemon) source(ic vrrp.Config) (netip.Addr, error) {
	src, err := vrrp.PrimaryAddress(&ic)
	if err != nil {
		return src, fmt.Errorf("instance %s: %w", ic.Name, err)
	}
	return src, nil
}

func (d *daemon) startInstance(ic vrrp.Config, scripts map[string]vrrp.TrackScript) error {
	sock, err := d.socket(ic)
	if err != nil {
		return err
	}
	src, err := d.source(ic)
	if err != nil {
		return err
	}
	m := &managed{cfg: ic, src: src, done: make(chan struct{})}
	m.notifier = vrrp.NewNotifier(ic.Name, ic.Notify, d.runner, d.log)
	g, _ := d.groups.Load(ic.Name)
	group, _ := g.(*vrrp.Group)
	m.in = vrrp.NewInstance(ic, vrrp.Deps{
		Transport:    sock.Transport(src, ic.UnicastPeers),
		Addresser:    vrrp.Netlink{},
		Announcer:    d.announcer,
		LocalIP:      src,
		TrackScripts: scripts,
		OnEvent:      func(ev vrrp.Event) { d.onEvent(m, ev) },
		Group:        group,
		Log:          d.log,
	})
	if err := sock.Register(ic.VRID, m.in, len(ic.UnicastPeers) == 0); err != nil {
		m.notifier.Stop()
		return fmt.Errorf("instance %s: %w", ic.Name, err)
	}
	// Only a registered instance joins its group: the group waits on its
	// members, and this one is about to run.
	if group != nil {
		group.Add(m.in)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	go func() { m.in.Run(ctx); close(m.done) }()
	d.instances[ic.Name] = m
	return nil
}

// onEvent runs on the instance's goroutine: notify scripts, the sync
// group and connection sync, all without d.mu.
func (d *daemon) onEvent(m *managed, ev vrrp.Event) {
	m.notifier.Notify(ev)
	if g, ok := d.groups.Load(ev.Instance); ok {
		g.(*vrrp.Group).Observe(ev)
	}
	if cs := d.connSync.Load(); cs != nil && cs.instance == ev.Instance {
		cs.setState(ev.To == vrrp.Master)
	}
}

// applyConnSync starts, updates, replaces or stops connection sync.
func (d *daemon) applyConnSync(cfg *conf.Config, note func(string, ...any)) error {
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
	case cur != nil && cur.instance == want.Instance:
		if !reflect.DeepEqual(cur.daemonCfg(), want.Daemon) {
			cur.update(*want)
			note("connection sync updated")
		}
		return nil
	case cur != nil:
		d.connSync.Store(nil)
		cur.stop()
	}
	cs, err := startConnSync(*want, d.log)
	if err != nil {
		return err
	}
	d.connSync.Store(cs)
	if m := d.instances[want.Instance]; m != nil {
		if st, ok := m.in.Status(); ok {
			cs.setState(st.State == vrrp.Master)
		}
	}
	note("connection sync started")
	return nil
}

// updateInstance applies a changed instance in place, or replaces it when
// what it is changed.
func (d *daemon) updateInstance(m *managed, ic vrrp.Config, scripts map[string]vrrp.TrackScript) error {
	var transport vrrp.Transport
	src, err := d.source(ic)
	if err != nil {
		return err
	}
	sock, err := d.socket(ic)
	if err != nil {
		return err
	}
	if src != m.src || !slices.Equal(ic.UnicastPeers, m.cfg.UnicastPeers) {
		transport = sock.Transport(src, ic.UnicastPeers)
	}
	m.notifier.SetConfig(ic.Notify)
	ch := vrrp.Change{Transport: transport, TrackScripts: scripts}
	if src != m.src {
		ch.LocalIP = src
	}
	err = m.in.Update(ic, ch)
	if errors.Is(err, vrrp.ErrReplace) {
		d.log.Warn("instance replaced: its interface, VRID, version or family changed", "instance", ic.Name)
		d.stopInstance(ic.Name, m)
		return d.startInstance(ic, scripts)
	}
	if err != nil {
		return fmt.Errorf("instance %s: %w", ic.Name, err)
	}
	if (len(ic.UnicastPeers) == 0) != (len(m.cfg.UnicastPeers) == 0) {
		sock.Unregister(ic.VRID)
		if err := sock.Register(ic.VRID, m.in, len(ic.UnicastPeers) == 0); err != nil {
			return fmt.Errorf("instance %s: %w", ic.Name, err)
		}
	}
	m.cfg, m.src = ic, src
	return nil
}

// stopInstance stops one instance (it resigns and drops its VIPs).
func (d *daemon) stopInstance(name string, m *managed) {
	m.stop()
	<-m.done
	m.notifier.Stop() // runs the stop script before lvsd goes on
	d.sockMu.Lock()
	s := d.sockets[socketKey{m.cfg.Interface, m.cfg.IPv6()}]
	d.sockMu.Unlock()
	if s != nil {
		s.Unregister(m.cfg.VRID)
	}
	delete(d.instances, name)
}

// scriptTrack is one running track_script.
type scriptTrack struct {
	cfg    vrrp.TrackScript
	cancel context.CancelFunc
	ok     atomic.Pointer[bool] // its last reported result; nil: none yet
}

// applyTrackers keeps each track_script running across reloads unless its
// definition changed (a restart would report a first result past its
// rise/fall), sends the last known results to instances new to a script,
// and restarts the interface watcher, which reports link states as they
// are. Results reach instances through d.tracked, read without d.mu.
func (d *daemon) applyTrackers(cfg *conf.Config, scripts map[string]vrrp.TrackScript) error {
	users := map[string][]*vrrp.Instance{}  // script → instances
	ifaces := map[string][]*vrrp.Instance{} // interface → instances
	for _, ic := range cfg.Instances {
		m := d.instances[ic.Name]
		if m == nil {
			continue
		}
		for _, name := range ic.TrackScripts {
			users[name] = append(users[name], m.in)
		}
		// An instance always tracks its own interface, as keepalived
		// does: a master on a link that is down would hold VIPs nobody
		// can reach while its peer takes over.
		for _, name := range append([]string{ic.Interface}, ic.TrackInterfaces...) {
			if !slices.Contains(ifaces[name], m.in) {
				ifaces[name] = append(ifaces[name], m.in)
			}
		}
	}
	d.tracked.Store(&trackedBy{scripts: users, ifaces: ifaces})
	for name, tr := range d.trackers {
		if !reflect.DeepEqual(scripts[name], tr.cfg) || users[name] == nil {
			tr.cancel()
			delete(d.trackers, name)
		}
	}
	for name, ins := range users {
		if tr := d.trackers[name]; tr != nil {
			if ok := tr.ok.Load(); ok != nil {
				for _, in := range ins {
					in.SetScript(name, *ok) // a no-op for instances that knew it
				}
			}
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		tr := &scriptTrack{cfg: scripts[name], cancel: cancel}
		d.trackers[name] = tr
		go vrrp.NewScriptTracker(tr.cfg, d.runner, d.log, func(name string, ok bool) {
			tr.ok.Store(&ok)
			for _, in := range d.tracked.Load().scripts[name] {
				in.SetScript(name, ok)
			}
		}).Run(ctx)
	}
	if d.stopTrackers != nil {
		d.stopTrackers()
	}
	var ctx context.Context
	ctx, d.stopTrackers = context.WithCancel(context.Background())
	if len(ifaces) == 0 {
		return nil
	}
	var names []string
	for name := range ifaces {
		names = append(names, name)
	}
	return vrrp.WatchInterfaces(ctx, names, func(name string, up bool) {
		if up {
			d.refreshSockets(name)
		}
		for _, in := range d.tracked.Load().ifaces[name] {
			in.SetInterface(name, up)
		}
	})
}

// trackedBy says which instances track which script and interface.
type trackedBy struct {
	scripts, ifaces map[string][]*vrrp.Instance
}

func (d *daemon) closeSockets() {
	d.sockMu.Lock()
	defer d.sockMu.Unlock()
	for _, s := range d.sockets {
		s.Close()
	}
}

// refreshSockets reopens the VRRP sockets of an interface that came up
// with a new index (deleted and created again), before its instances
// leave FAULT: the old sockets are bound to an index that is gone.
func (d *daemon) refreshSockets(name string) {
	d.sockMu.Lock()
	defer d.sockMu.Unlock()
	for key, s := range d.sockets {
		if key.iface != name {
			continue
		}
		if reopened, err := s.Refresh(); err != nil {
			d.log.Error("VRRP socket not reopened on a recreated interface", "interface", name, "err", err)
		} else if reopened {
			d.log.Info("VRRP socket reopened: the interface was created again", "interface", name)
			// Not here: d.mu may be held by whoever started the watcher.
			go d.refreshSources(name)
		}
	}
}

// refreshSources moves the instances of a recreated interface that have
// no source_ip to its address now: a new link-local address (a new MAC)
// or a renumbered IPv4 one. The address may come a little after the link
// (a network manager adds it on link-up): it is looked for again every
// second for sourceWait.
func (d *daemon) refreshSources(name string) {
	for end := time.Now().Add(sourceWait); d.refreshSourcesOnce(name, time.Now().After(end)); {
		time.Sleep(time.Second)
	}
}

const sourceWait = 30 * time.Second

// refreshSourcesOnce reports whether an instance found no address yet;
// last logs that as an error.
func (d *daemon) refreshSourcesOnce(name string, last bool) (pending bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range d.instances {
		if m.cfg.Interface != name || m.cfg.SourceIP.IsValid() {
			continue
		}
		src, err := d.source(m.cfg)
		if err != nil {
			if last {
				d.log.Error("no source address on the recreated interface: adverts keep the old source (set source_ip to fix it)", "instance", m.cfg.Name, "from", m.src, "err", err)
			}
			pending = true
			continue
		}
		if src == m.src {
			continue
		}
		sock, err := d.socket(m.cfg)
		if err != nil {
			d.log.Error("VRRP socket", "instance", m.cfg.Name, "err", err)
			continue
		}
		ch := vrrp.Change{Transport: sock.Transport(src, m.cfg.UnicastPeers), LocalIP: src}
		if err := m.in.Update(m.cfg, ch); err != nil {
			d.log.Error("source address not changed", "instance", m.cfg.Name, "err", err)
			continue
		}
		d.log.Info("instance speaks from the recreated interface's address", "instance", m.cfg.Name, "from", m.src, "to", src)
		m.src = src
	}
	return pending && !last
}
