// Package daemon is `lvsd run`: the running composition of one
// configuration. It starts the VRRP node (instances, sockets, trackers,
// sync groups), the director of the IPVS table and connection sync,
// answers on the control socket and the metrics listener, and applies a
// reloaded configuration by difference. Every kernel and network seam
// comes in through Host, so the daemon is unit-tested with vrrptest,
// ipvs.Fake and sync.Fake; SystemHost is the real one. It imports the
// domain packages, conf and the other internal packages; never cmd.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/internal/control"
	"github.com/lvsd/lvsd/internal/director"
	"github.com/lvsd/lvsd/internal/script"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"

	lvsync "github.com/lvsd/lvsd/sync"
)

// Host is what the daemon uses of its host: every kernel and network
// seam in one place.
type Host struct {
	// VRRP are the VRRP node's seams; Runner, Log and OnEvent are set by
	// the daemon.
	VRRP vrrp.NodeDeps
	// OpenIPVS opens the kernel's IPVS table; it fails with ipvs.ErrNoIPVS
	// on a kernel without IPVS.
	OpenIPVS func() (ipvs.Kernel, error)
	// OpenSync opens the kernel's sync daemons, Observe the sync group
	// (nil: traffic not observed).
	OpenSync func() (SyncKernel, error)
	Observe  func(lvsync.Config) (*lvsync.Observer, error)
	// Connections counts the IPVS table's connections, for drills.
	Connections func() (int, error)
	// WatchGARPs watches for the gratuitous ARP of an instance's VIPs
	// during a drill; nil: not watched.
	WatchGARPs func(vrrp.Config) GARPWatch
	// Notify tells the service manager about the daemon's life (systemd
	// notify); nil: nobody listens. Watchdog is its watchdog interval,
	// 0 when none.
	Notify   func(state string) error
	Watchdog time.Duration
}

// SyncKernel is the kernel's sync daemons as connection sync drives them.
type SyncKernel interface {
	lvsync.Control
	io.Closer
}

// Options are the daemon's settings that are not in its file.
type Options struct {
	Log     *slog.Logger
	Level   *slog.LevelVar // set from global.log_level, on reload too
	Version string         // reported by status
}

// Daemon is one running configuration.
type Daemon struct {
	host    Host
	opts    Options
	log     *slog.Logger
	started time.Time
	parent  context.Context    // its end asks Run to stop, in order
	ctx     context.Context    // the life of every goroutine of the daemon: stop ends it
	cancel  context.CancelFunc // ends ctx, once the instances resigned
	node    *vrrp.Node
	runner  *script.Ref

	// mu serialises reload with status and stop. Never take it from an
	// instance's goroutine (OnEvent): reload waits on those goroutines.
	mu       sync.Mutex
	cfg      *conf.Config
	director *director.Director // nil until the configuration has virtual servers
	dirDone  chan error         // the director's Run; nil until it runs
	stopping bool               // set by stop: reloads and drills are refused

	connSync atomic.Pointer[connSync] // nil without connection_sync; read from OnEvent
	reloadOK atomic.Uint64
	reloadKO atomic.Uint64
}

// New builds the daemon of cfg on host. The end of ctx makes Run stop in
// order; every goroutine of the daemon runs under a context of its own
// derived from ctx, which the stop ends once the instances have resigned
// and connection sync has stopped. A plain VRRP pair needs no IPVS; with
// virtual servers, New fails fast on a kernel without it.
func New(ctx context.Context, cfg *conf.Config, host Host, opts Options) (*Daemon, error) {
	runner, err := script.NewRunner(cfg.Global.ScriptUser)
	if err != nil {
		return nil, err
	}
	runner = runner.WithLog(opts.Log)
	d := &Daemon{host: host, opts: opts, log: opts.Log, started: time.Now(), cfg: cfg, runner: script.NewRef(runner)}
	if len(cfg.VirtualServers) > 0 {
		if err := d.openDirector(cfg); err != nil {
			return nil, err
		}
	}
	d.parent = ctx
	d.ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	deps := host.VRRP
	deps.Runner, deps.Log, deps.OnEvent = d.runner, d.log, d.onVRRPEvent
	d.node = vrrp.NewNode(d.ctx, deps)
	return d, nil
}

func (d *Daemon) openDirector(cfg *conf.Config) error {
	kernel, err := d.host.OpenIPVS()
	if err != nil {
		return err
	}
	d.director, err = director.New(cfg, kernel, d.runner, d.log)
	return err
}

// Run starts everything and serves until the context given to New ends,
// then stops in order: reloads and drills are refused, the instances
// resign (priority 0) and drop their VIPs one by one, connection sync
// stops, then the control socket, metrics and checks end, and the IPVS
// table stays as it is unless flush_on_stop. hup asks for reloads.
func (d *Daemon) Run(hup <-chan os.Signal) error {
	g, ctx := errgroup.WithContext(d.ctx)
	d.mu.Lock()
	err := d.apply(d.cfg, nil)
	cfg := d.cfg
	d.mu.Unlock()
	if err == nil {
		err = d.serve(ctx, g, cfg)
	}
	if err != nil {
		d.stop()
		d.wait(g, false) // a daemon that never ran flushes nothing
		return err
	}
	d.log.Info("lvsd running", "version", d.opts.Version, "config", cfg.File, "instances", len(d.node.Instances()), "control_socket", cfg.Global.ControlSocket)
	d.notify("READY=1\nSTATUS=running " + cfg.File)
	for d.parent.Err() == nil && ctx.Err() == nil {
		select {
		case <-hup:
			if summary, err := d.Reload(); err != nil {
				d.log.Error("SIGHUP: reload rejected; the running configuration stays", "err", err)
			} else {
				d.log.Info("SIGHUP: reloaded", "changes", strings.Join(summary, "; "))
			}
		case <-d.parent.Done():
		case <-ctx.Done():
		}
	}
	d.notify("STOPPING=1")
	d.log.Info("stopping: resigning mastership and removing virtual IPs")
	d.stop()
	d.wait(g, true)
	d.log.Info("lvsd stopped")
	return nil
}

// serve starts the control socket, the metrics listener and the
// watchdog under g.
func (d *Daemon) serve(ctx context.Context, g *errgroup.Group, cfg *conf.Config) error {
	l, err := control.Listen(cfg.Global.ControlSocket)
	if err != nil {
		return err
	}
	g.Go(func() error { control.Serve(ctx, l, d, d.log); return nil })
	if addr := cfg.Global.MetricsListen; addr != "" {
		if err := d.serveMetrics(ctx, g, addr); err != nil {
			return err
		}
	}
	if d.host.Watchdog > 0 {
		g.Go(func() error { d.watchdog(ctx, d.host.Watchdog); return nil })
	}
	return nil
}

// wait waits for the served goroutines and the director, whose table
// stays as it is: a restart adopts it, and established connections carry
// on meanwhile. Only a daemon that ran (ran) honours flush_on_stop.
func (d *Daemon) wait(g *errgroup.Group, ran bool) {
	g.Wait()
	d.mu.Lock()
	dir, dirDone, flush := d.director, d.dirDone, ran && d.cfg.Global.FlushOnStop
	d.mu.Unlock()
	if dirDone != nil {
		if err := <-dirDone; err != nil {
			d.log.Error("director", "err", err)
		}
	}
	if dir != nil && flush {
		dir.Flush()
	}
	// A check or track script still in its grace is killed now, with its
	// session, so none outlives lvsd.
	d.runner.Close()
}

// stop refuses further reloads and drills, stops the VRRP node (the
// instances resign, then trackers, groups and sockets end) and
// connection sync, then ends the daemon's context: the control socket,
// the metrics, the watchdog and the director's checks.
func (d *Daemon) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopping = true
	d.node.Stop()
	if cs := d.connSync.Swap(nil); cs != nil {
		cs.stop()
	}
	d.cancel()
}

// ErrStopping refuses a reload or drill that raced the stop.
var ErrStopping = errors.New("lvsd is stopping: refused")

// Reload loads the file again and applies it by difference. An invalid
// file, or one this host cannot run, changes nothing; its error is the
// diagnostics as `lvsd check` prints them.
func (d *Daemon) Reload() ([]string, error) {
	d.notify("RELOADING=1")
	defer d.notify("READY=1")
	d.mu.Lock()
	file := d.cfg.File
	d.mu.Unlock()
	cfg, diags := conf.Load(file)
	if conf.RefusesRun(diags) {
		d.reloadKO.Add(1)
		var b strings.Builder
		conf.WriteDiagnostics(&b, diags)
		return nil, errors.New(strings.TrimSpace(b.String()))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		d.reloadKO.Add(1)
		return nil, ErrStopping
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

// apply makes the running daemon match cfg, changing only what differs.
// summary is nil at start (everything is new) and collects what a reload
// did otherwise. d.mu is held.
func (d *Daemon) apply(cfg *conf.Config, summary *[]string) error {
	initial := summary == nil
	note := func(format string, args ...any) {
		if !initial {
			*summary = append(*summary, fmt.Sprintf(format, args...))
		}
	}
	old := d.cfg
	if d.stopping {
		return ErrStopping
	}
	if !initial && cfg.Global.ScriptUser != old.Global.ScriptUser {
		r, err := script.NewRunner(cfg.Global.ScriptUser)
		if err != nil {
			return err
		}
		r = r.WithLog(d.log)
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
	if d.opts.Level != nil {
		d.opts.Level.Set(cfg.Global.LogLevel)
	}
	var errs []error
	changes, err := d.node.Apply(vrrp.NodeConfig{Instances: cfg.Instances, TrackScripts: cfg.TrackScripts, SyncGroups: cfg.SyncGroups})
	if errors.Is(err, vrrp.ErrNodeStopped) {
		return ErrStopping
	}
	for _, c := range changes {
		note("%s", c)
	}
	if err != nil {
		errs = append(errs, err)
	}
	if err := d.applyConnSync(cfg, note); err != nil {
		errs = append(errs, err)
	}
	if err := d.applyDirector(cfg, initial, note); err != nil {
		errs = append(errs, err)
	}
	d.cfg = cfg
	return errors.Join(errs...)
}

// applyDirector opens the director for the first virtual servers,
// updates it on a reload, and starts it once. d.mu is held.
func (d *Daemon) applyDirector(cfg *conf.Config, initial bool, note func(string, ...any)) error {
	var err error
	switch {
	case len(cfg.VirtualServers) > 0 && d.director == nil:
		err = d.openDirector(cfg)
	case d.director != nil && !initial:
		var ops int
		ops, err = d.director.Update(cfg)
		if ops > 0 {
			note("%d real server or service changes", ops)
		}
	}
	if d.director != nil && d.dirDone == nil {
		d.dirDone = make(chan error, 1)
		dir := d.director
		go func() { d.dirDone <- dir.Run(d.ctx, d.runner) }()
	}
	return err
}

// notify tells the service manager, if any, about the daemon's life.
func (d *Daemon) notify(state string) {
	if d.host.Notify == nil {
		return
	}
	if err := d.host.Notify(state); err != nil {
		d.log.Warn("systemd notify", "state", state, "err", err)
	}
}

// watchdog pings the service manager's watchdog at half its interval
// while the daemon is alive: each ping first takes a status snapshot,
// which every VRRP instance's goroutine must answer, so a hung state
// machine stops the pings and systemd restarts lvsd.
func (d *Daemon) watchdog(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.Status()
			d.notify("WATCHDOG=1")
		}
	}
}
