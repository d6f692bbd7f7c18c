package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/internal/director"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
)

// daemon is the running composition of one configuration: the VRRP node
// (instances with their sockets, trackers, notifiers and sync groups),
// the director of the IPVS table, connection sync and the control
// socket. reload swaps the configuration by difference.
type daemon struct {
	log     *slog.Logger
	level   *slog.LevelVar
	started time.Time
	node    *vrrp.Node

	// mu serialises reload with status and stop. Never take it from an
	// instance's goroutine (OnEvent): reload waits on those goroutines.
	mu       sync.Mutex
	cfg      *conf.Config
	runner   *runnerRef
	director *director.Director // nil until the configuration has virtual servers
	stopping bool               // set by stopAll: reloads and drills are refused
	dirCtx   context.Context
	dirDone  chan error

	connSync atomic.Pointer[connSync] // nil without connection_sync; read from OnEvent
	reloadOK atomic.Uint64
	reloadKO atomic.Uint64
}

func newDaemon(cfg *conf.Config, log *slog.Logger, level *slog.LevelVar) (*daemon, error) {
	runner, err := newScriptRunner(cfg.Global.ScriptUser)
	if err != nil {
		return nil, err
	}
	d := &daemon{log: log, level: level, started: time.Now(), cfg: cfg, runner: &runnerRef{}}
	d.runner.Store(runner)
	// A plain VRRP pair needs no IPVS; with virtual servers, fail fast.
	if len(cfg.VirtualServers) > 0 {
		if err := d.openDirector(cfg); err != nil {
			return nil, err
		}
	}
	deps := vrrp.SystemDeps()
	deps.Runner, deps.Log, deps.OnEvent = d.runner, log, d.onVRRPEvent
	// The node lives until stopAll stops it.
	d.node = vrrp.NewNode(context.Background(), deps)
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
	d.log.Info("lvsd running", "version", version, "config", d.cfg.File, "instances", len(d.node.Instances()), "control_socket", d.cfg.Global.ControlSocket)
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

// stopAll stops the VRRP node (the instances resign, then trackers,
// groups and sockets end) and connection sync.
func (d *daemon) stopAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopping = true
	d.node.Stop()
	if cs := d.connSync.Swap(nil); cs != nil {
		cs.stop()
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
	var errs []error
	changes, err := d.node.Apply(vrrp.NodeConfig{Instances: cfg.Instances, TrackScripts: cfg.TrackScripts, SyncGroups: cfg.SyncGroups})
	for _, c := range changes {
		note("%s", c)
	}
	if err != nil {
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

// onVRRPEvent runs on an instance's goroutine, after its notify script
// and sync group: connection sync follows its instance, without d.mu.
func (d *daemon) onVRRPEvent(ev vrrp.Event) {
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
	if r, ok := d.node.Instance(want.Instance); ok {
		if st, ok := r.Instance.Status(); ok {
			cs.setState(st.State == vrrp.Master)
		}
	}
	note("connection sync started")
	return nil
}
