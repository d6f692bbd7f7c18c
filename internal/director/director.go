// Package director is the application policy between health and IPVS:
// it turns the virtual servers of a configuration and the health of their
// real servers into the desired IPVS table (quorum, hysteresis, sorry
// server, inhibit) and keeps the kernel equal to it through the ipvs
// reconciler. It imports ipvs, healthcheck, conf and control (for the
// status it reports), never vrrp or sync.
package director

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/control"
	"github.com/lvsd/lvsd/ipvs"
)

// Director keeps the kernel's IPVS table equal to what the health of the
// real servers asks for. Both nodes of a pair run it alike, so the
// backup's table is ready when it takes over. It applies differences
// only: it never flushes, and at start it adopts the table it finds.
type Director struct {
	log    *slog.Logger
	runner healthcheck.Runner
	rec    *ipvs.Reconciler
	kernel ipvs.Kernel
	mon    *healthcheck.Monitor
	notify chan []string // notify_up/notify_down, run in order

	mu       sync.Mutex
	services []*dirService
	servers  map[healthcheck.Key]*dirServer
	dirty    chan struct{} // coalesces reconciles
	drift    drift
}

type dirService struct {
	cfg    conf.VirtualServer
	vs     ipvs.VirtualService
	quorum ipvs.QuorumState
	down   bool // last reported quorum state, for logging changes
}

type dirServer struct {
	svc         *dirService
	idx         int // in svc.vs.RealServers
	cfg         conf.RealServer
	transitions uint64 // health changes since lvsd started
}

func serverKey(vs conf.VirtualServer, rs conf.RealServer) healthcheck.Key {
	return healthcheck.Key(vs.Name + "/" + rs.Destination.String())
}

// New opens the kernel's IPVS, applies the global timeouts and
// builds the services, each real server starting as the kernel has it:
// present with a weight means up (a restart keeps serving), otherwise it
// waits for rise successes.
func New(cfg *conf.Config, kernel ipvs.Kernel, runner healthcheck.Runner, log *slog.Logger) (*Director, error) {
	d := &Director{
		log: log, kernel: kernel, rec: ipvs.NewReconciler(kernel), runner: runner,
		servers: map[healthcheck.Key]*dirServer{},
		dirty:   make(chan struct{}, 1),
		notify:  make(chan []string, 256),
	}
	if ops, err := d.rec.ApplyTimeouts(cfg.Global.IPVSTimeouts); err != nil {
		return nil, fmt.Errorf("IPVS timeouts: %w", err)
	} else {
		d.logOps(ops)
	}
	services, servers, err := d.build(cfg, nil, nil)
	if err != nil {
		return nil, err
	}
	d.services, d.servers = services, servers
	return d, nil
}

// build makes the services of cfg. A real server that was already running
// (in prev) keeps its health; a new one starts as the kernel has it:
// present with a weight means up (a restart keeps serving), otherwise it
// waits for rise successes. A service that keeps its name and address
// keeps its quorum state.
func (d *Director) build(cfg *conf.Config, prevServices []*dirService, prev map[healthcheck.Key]*dirServer) ([]*dirService, map[healthcheck.Key]*dirServer, error) {
	current, err := d.kernel.Services()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the IPVS table: %w", err)
	}
	inKernel := map[string]int{} // present destinations and their weights
	for _, e := range current {
		for _, dst := range e.Destinations {
			inKernel[e.Service.Key().String()+"|"+dst.String()] = dst.Weight
		}
	}
	byName := map[string]*dirService{}
	for _, s := range prevServices {
		byName[s.cfg.Name] = s
	}
	var services []*dirService
	servers := map[healthcheck.Key]*dirServer{}
	for _, vsc := range cfg.VirtualServers {
		s := &dirService{cfg: vsc, vs: ipvs.VirtualService{
			Service: vsc.Service, Quorum: vsc.Quorum, Hysteresis: vsc.Hysteresis,
			Sorry: vsc.SorryServer, InhibitOnFailure: vsc.InhibitOnFailure,
		}}
		if o := byName[vsc.Name]; o != nil && o.cfg.Service.Key() == vsc.Service.Key() {
			s.quorum, s.down = o.quorum, o.down
		}
		for i, rs := range vsc.RealServers {
			key := serverKey(vsc, rs)
			// Present with a weight (or at the weight 0 it is configured
			// with: a drained server) means it was serving.
			w, present := inKernel[vsc.Service.Key().String()+"|"+rs.Destination.String()]
			up := rs.Check == nil || present && (w > 0 || rs.Destination.Weight == 0)
			var transitions uint64
			if p := prev[key]; p != nil {
				transitions = p.transitions
				if rs.Check != nil {
					up = p.svc.vs.RealServers[p.idx].Healthy
				}
			}
			s.vs.RealServers = append(s.vs.RealServers, ipvs.RealServer{Destination: rs.Destination, Healthy: up})
			servers[key] = &dirServer{svc: s, idx: i, cfg: rs, transitions: transitions}
		}
		services = append(services, s)
	}
	return services, servers, nil
}

// Update applies a reloaded configuration: services and real servers are
// matched by name and address, checks added, replaced or removed as they
// changed, and the table reconciled by difference. It returns how many
// real servers or services changed.
func (d *Director) Update(cfg *conf.Config) (int, error) {
	if ops, err := d.rec.ApplyTimeouts(cfg.Global.IPVSTimeouts); err != nil {
		return 0, fmt.Errorf("IPVS timeouts: %w", err)
	} else {
		d.logOps(ops)
	}
	d.mu.Lock()
	services, servers, err := d.build(cfg, d.services, d.servers)
	if err != nil {
		d.mu.Unlock()
		return 0, err
	}
	old := d.servers
	oldServices := d.services
	d.services, d.servers = services, servers
	mon := d.mon
	d.mu.Unlock()
	if mon == nil {
		return len(servers), nil // not running yet: run starts every check
	}

	changed := 0
	for key, srv := range servers {
		p := old[key]
		if p == nil || !reflect.DeepEqual(p.cfg, srv.cfg) {
			changed++
		}
		switch {
		case srv.cfg.Check == nil:
			if p != nil && p.cfg.Check != nil {
				mon.Remove(key)
			}
		case p == nil || p.cfg.Check == nil:
			d.addCheck(key, srv)
		case !reflect.DeepEqual(p.cfg.Check, srv.cfg.Check):
			t, err := d.target(key, srv)
			if err == nil {
				err = mon.Replace(t)
			}
			if err != nil {
				d.log.Error("check not replaced", "server", key, "err", err)
			}
		}
	}
	for key, p := range old {
		if servers[key] == nil {
			changed++
			if p.cfg.Check != nil {
				mon.Remove(key)
			}
		}
	}
	if len(oldServices) != len(services) {
		changed++
	}
	d.wake()
	return changed, nil
}

func (d *Director) target(key healthcheck.Key, srv *dirServer) (healthcheck.Target, error) {
	initial := healthcheck.Down
	if srv.svc.vs.RealServers[srv.idx].Healthy {
		initial = healthcheck.Up
	}
	return healthcheck.NewTarget(key, srv.cfg.Destination.Address, *srv.cfg.Check, d.runner, initial)
}

func (d *Director) addCheck(key healthcheck.Key, srv *dirServer) {
	t, err := d.target(key, srv)
	if err == nil {
		err = d.mon.Add(t)
	}
	if err != nil {
		d.log.Error("check not started", "server", key, "err", err)
	}
}

// wake asks the reconcile loop for a pass.
func (d *Director) wake() {
	select {
	case d.dirty <- struct{}{}:
	default:
	}
}

// resyncEvery is how often the table is reconciled with no event, so an
// outside change (ipvsadm -C) or an operation that failed is mended.
const resyncEvery = time.Minute

// Run starts the checks and reconciles until ctx ends.
func (d *Director) Run(ctx context.Context, runner healthcheck.Runner) error {
	d.mu.Lock()
	d.mon = healthcheck.NewMonitor(ctx, d.onHealth)
	for key, srv := range d.servers {
		if srv.cfg.Check != nil {
			d.addCheck(key, srv)
		}
	}
	d.mu.Unlock()
	notified := make(chan struct{})
	go func() { d.runNotify(ctx, runner); close(notified) }()
	d.reconcile()
	resync := time.NewTicker(resyncEvery)
	defer resync.Stop()
	for {
		select {
		case <-ctx.Done():
			d.mon.Wait()
			<-notified // a script running is killed: the runner returns once it is
			return nil
		case <-d.dirty:
			d.reconcile()
		case <-resync.C:
			d.reconcile()
		}
	}
}

// onHealth records a transition and asks for a reconcile.
func (d *Director) onHealth(ev healthcheck.Event) {
	d.mu.Lock()
	srv := d.servers[ev.Key]
	if srv == nil {
		d.mu.Unlock()
		return
	}
	up := ev.State == healthcheck.Up
	srv.svc.vs.RealServers[srv.idx].Healthy = up
	srv.transitions++
	d.mu.Unlock()
	argv := srv.cfg.NotifyDown
	if up {
		argv = srv.cfg.NotifyUp
	}
	d.log.Info("real server "+strings.ToLower(ev.State.String()), "service", srv.svc.cfg.Name,
		"server", srv.cfg.Destination.String(), "reason", ev.Reason, "after", ev.Count)
	if argv != nil {
		select {
		case d.notify <- append(append([]string(nil), argv...), strings.ToUpper(ev.State.String()), srv.cfg.Destination.String()):
		default:
			d.log.Error("notify queue full; script skipped", "server", srv.cfg.Destination.String())
		}
	}
	d.wake()
}

// reconcile applies the desired table of every service.
func (d *Director) reconcile() {
	d.mu.Lock()
	var desired []ipvs.Entry
	for _, s := range d.services {
		desired = append(desired, s.vs.Desired(&s.quorum))
		if down := s.quorum.Down(); down != s.down {
			s.down = down
			if down {
				d.log.Warn("service below quorum: sorry server in", "service", s.cfg.Name, "quorum", s.vs.Quorum, "healthy_weight", s.vs.HealthyWeight())
			} else {
				d.log.Info("service back at quorum", "service", s.cfg.Name, "healthy_weight", s.vs.HealthyWeight())
			}
		}
	}
	d.mu.Unlock()
	start := time.Now()
	ops, err := d.rec.Apply(desired)
	d.logOps(ops)
	d.mu.Lock()
	drifted := d.drift.note(desired, ops, err, d.configured, time.Now())
	d.mu.Unlock()
	if drifted {
		d.log.Warn("IPVS table changed outside lvsd; mended", "ops", len(ops), "first", ops[0].String())
	}
	if err != nil {
		d.log.Error("IPVS reconcile; retrying in 5s", "err", err)
		time.AfterFunc(5*time.Second, d.wake)
	}
	if len(ops) > 0 {
		d.log.Debug("IPVS reconciled", "ops", len(ops), "took", time.Since(start))
	}
}

func (d *Director) logOps(ops []ipvs.Op) {
	for _, op := range ops {
		d.log.Info("ipvs", "op", op.String())
	}
}

// runNotify runs notify_up/notify_down scripts one at a time, in order,
// apart from the checks and the reconcile: none waits for a script. When
// ctx ends the script running is killed and the rest are dropped.
func (d *Director) runNotify(ctx context.Context, runner healthcheck.Runner) {
	for {
		select {
		case <-ctx.Done():
			return
		case argv := <-d.notify:
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if err := runner.Run(rctx, argv); err != nil {
				d.log.Error("real server notify script failed", "argv", argv, "err", err)
			}
			cancel()
		}
	}
}

func (d *Director) Status() []control.Service {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []control.Service
	for _, s := range d.services {
		ss := control.Service{
			Name: s.cfg.Name, Service: s.cfg.Service.String(), Scheduler: s.cfg.Service.Scheduler,
			Forwarding: s.cfg.Forwarding.String(), Quorum: s.vs.Quorum, Healthy: s.vs.HealthyWeight(),
			SorryActive: s.quorum.Down() && s.vs.Sorry != nil,
			QuorumMet:   !s.quorum.Down(), // with hysteresis, as the table has it
			IPVSDrift:   copyDrift(d.drift.services[s.cfg.Service.Key()]),
		}
		for _, rs := range s.cfg.RealServers {
			srv := d.servers[serverKey(s.cfg, rs)]
			r := control.RealServer{
				Address: rs.Destination.String(), Weight: rs.Destination.Weight, Transitions: srv.transitions,
				Forwarding: rs.Destination.Forwarding.String(), Healthy: s.vs.RealServers[srv.idx].Healthy,
			}
			if rs.Check != nil {
				r.Check = rs.Check.Kind.String()
				if st, ok := d.checkStatus(serverKey(s.cfg, rs)); ok {
					r.Since, r.LastCheck, r.LastResult = st.Since, st.LastCheck, st.Last.Reason
					if st.Last.Latency > 0 {
						r.Latency = st.Last.Latency.Round(time.Microsecond).String()
						r.LatencyValue = st.Last.Latency
					}
				}
			}
			ss.RealServers = append(ss.RealServers, r)
		}
		out = append(out, ss)
	}
	return out
}

// Flush empties the table for flush_on_stop: the reconciler applied
// against an empty desired table, so every service in the namespace goes,
// lvsd's and any another tool added (lvsd owns the namespace's table).
func (d *Director) Flush() {
	ops, err := d.rec.Apply(nil)
	d.logOps(ops)
	if err != nil {
		d.log.Error("flush_on_stop", "err", err)
	}
}

// ServiceNames maps each configured service's kernel key to its name.
func (d *Director) ServiceNames() map[ipvs.ServiceKey]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := map[ipvs.ServiceKey]string{}
	for _, s := range d.services {
		names[s.cfg.Service.Key()] = s.cfg.Name
	}
	return names
}

// configured tells whether k is the key of a configured service. d.mu is
// held.
func (d *Director) configured(k ipvs.ServiceKey) bool {
	for _, s := range d.services {
		if s.cfg.Service.Key() == k {
			return true
		}
	}
	return false
}

// checkStatus is a check's state, once the checks run. d.mu is held.
func (d *Director) checkStatus(key healthcheck.Key) (healthcheck.Status, bool) {
	if d.mon == nil {
		return healthcheck.Status{}, false
	}
	return d.mon.Status(key)
}

// Kernel is the IPVS handle the director programs; the metrics read its
// counters.
func (d *Director) Kernel() ipvs.Kernel { return d.kernel }
