package vrrp_test

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvsd/lvsd/vrrp"
	"github.com/lvsd/lvsd/vrrp/vrrptest"
)

var (
	vip1 = netip.MustParsePrefix("192.0.2.100/24")
	vip2 = netip.MustParsePrefix("198.51.100.100/24")
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// director is one host running a node.
type director struct {
	host   *vrrptest.Host
	node   *vrrp.Node
	events *vrrptest.Events
}

// startDirector runs a node on h with cfg; call inside a synctest bubble.
func startDirector(t *testing.T, h *vrrptest.Host, cfg vrrp.NodeConfig) *director {
	t.Helper()
	d := &director{host: h, events: &vrrptest.Events{}}
	deps := h.Deps(quiet())
	deps.OnEvent = d.events.OnEvent
	d.node = vrrp.NewNode(context.Background(), deps)
	t.Cleanup(d.node.Stop)
	if _, err := d.node.Apply(cfg); err != nil {
		t.Fatalf("%s: apply: %v", h.Name, err)
	}
	return d
}

func (d *director) status(t *testing.T, name string) vrrp.Status {
	t.Helper()
	r, ok := d.node.Instance(name)
	if !ok {
		t.Fatalf("%s: no instance %s", d.host.Name, name)
	}
	s, _ := r.Instance.Status()
	return s
}

func (d *director) state(t *testing.T, name string) vrrp.State { return d.status(t, name).State }

// lastTo is when instance last went to state; zero if never.
func (d *director) lastTo(name string, to vrrp.State) time.Time {
	evs := d.events.Of(name)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].To == to {
			return evs[i].At
		}
	}
	return time.Time{}
}

func instance(name, iface string, vrid, prio uint8, vip netip.Prefix) vrrp.Config {
	return vrrp.Config{
		Name: name, Interface: iface, VRID: vrid, Priority: prio, AdvertInterval: time.Second,
		Version: vrrp.V3, Preempt: true, VIPs: []netip.Prefix{vip},
		GARP: vrrp.GARP{Delay: 5 * time.Second, Repeat: 2},
	}
}

// pair puts hosts a (192.0.2.11) and b (192.0.2.12) on one wire with eth0.
func pair() (a, b *vrrptest.Host) {
	w := vrrptest.NewWire()
	a, b = vrrptest.NewHost("dir-a"), vrrptest.NewHost("dir-b")
	a.AddInterface("eth0", w, netip.MustParseAddr("192.0.2.11"))
	b.AddInterface("eth0", w, netip.MustParseAddr("192.0.2.12"))
	return a, b
}

// A reload that changes what a master does but not its priority keeps it
// master: no transition, no VIP removed, no announcement, adverts every
// interval, and the backup never takes over.
func TestNodeReloadKeepsMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ha, hb := pair()
		alive := vrrp.TrackScript{Name: "alive", Command: []string{"/bin/alive"}, Interval: 2 * time.Second,
			Timeout: time.Second, Weight: -20, Rise: 2, Fall: 2}
		cfgA := vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_1", "eth0", 51, 150, vip1)}, TrackScripts: []vrrp.TrackScript{alive}}
		cfgA.Instances[0].TrackScripts = []string{"alive"}
		cfgA.Instances[0].Notify.Master = []string{"/bin/notify", "old"}
		a := startDirector(t, ha, cfgA)
		b := startDirector(t, hb, vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_1", "eth0", 51, 100, vip1)}})
		time.Sleep(10 * time.Second)
		if a.state(t, "VI_1") != vrrp.Master || b.state(t, "VI_1") != vrrp.Backup {
			t.Fatalf("A %s, B %s; want MASTER and BACKUP", a.state(t, "VI_1"), b.state(t, "VI_1"))
		}
		eventsA, eventsB := len(a.events.Of("VI_1")), len(b.events.Of("VI_1"))
		announced, received := len(ha.Announcements()), b.status(t, "VI_1").Received

		changed := cfgA
		changed.Instances = []vrrp.Config{cfgA.Instances[0]}
		changed.Instances[0].GARP.Repeat = 3
		changed.Instances[0].Notify.Master = []string{"/bin/notify", "new"}
		alive.Interval = 3 * time.Second
		changed.TrackScripts = []vrrp.TrackScript{alive}
		summary, err := a.node.Apply(changed)
		if err != nil || !slices.Equal(summary, []string{"instance VI_1 updated"}) {
			t.Fatalf("reload: %q, %v; want [instance VI_1 updated]", summary, err)
		}
		time.Sleep(20 * time.Second)

		if got := a.events.Of("VI_1"); len(got) != eventsA {
			t.Errorf("A made transitions across the reload: %v", got[eventsA:])
		}
		if got := b.events.Of("VI_1"); len(got) != eventsB {
			t.Errorf("B made transitions across the reload: %v", got[eventsB:])
		}
		if removed := ha.Removed(); len(removed) > 0 || !ha.Holds(vip1) {
			t.Errorf("A removed %v, holds the VIP: %t; want none removed and the VIP held", removed, ha.Holds(vip1))
		}
		if hb.Holds(vip1) {
			t.Error("B holds the VIP")
		}
		if got := ha.Announcements(); len(got) != announced {
			t.Errorf("A announced %d times across the reload, want no announcement", len(got)-announced)
		}
		// An advert every second: 20 in 20 s (the last may be in flight).
		if got := b.status(t, "VI_1").Received - received; got < 19 || got > 20 {
			t.Errorf("B received %d adverts in 20 s, want 20", got)
		}
		if summary, err := a.node.Apply(changed); err != nil || len(summary) != 0 {
			t.Errorf("same configuration again: %q, %v; want no change", summary, err)
		}
	})
}

// A master whose socket goes deaf enters FAULT and gives up its VIPs (it
// resigns: the peer takes over after skew); once the socket reads again
// it leaves FAULT at the next reopen and, the higher priority with
// preempt, takes over again after master_down (RFC 5798 §6.4.2).
func TestNodeDeafSocketFaultsUntilReopen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ha, hb := pair()
		a := startDirector(t, ha, vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_1", "eth0", 51, 150, vip1)}})
		b := startDirector(t, hb, vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_1", "eth0", 51, 100, vip1)}})
		time.Sleep(10 * time.Second)
		if a.state(t, "VI_1") != vrrp.Master {
			t.Fatalf("A %s, want MASTER", a.state(t, "VI_1"))
		}

		deaf := time.Now()
		ha.SetDeaf("eth0", true)
		synctest.Wait()
		s := a.status(t, "VI_1")
		if s.State != vrrp.Fault || len(s.Faults) != 1 || !strings.HasPrefix(s.Faults[0], "VRRP socket failing") {
			t.Fatalf("A %s, faults %q; want FAULT for its socket", s.State, s.Faults)
		}
		if ha.Holds(vip1) {
			t.Error("A holds the VIP in FAULT")
		}
		time.Sleep(5 * time.Second)
		if got, want := b.lastTo("VI_1", vrrp.Master).Sub(deaf), vrrp.Skew(vrrp.V3, 100, time.Second); got != want {
			t.Errorf("B took over %s after A went deaf, want skew %s (A resigned)", got, want)
		}
		if a.state(t, "VI_1") != vrrp.Fault || b.state(t, "VI_1") != vrrp.Master || !hb.Holds(vip1) || ha.Holds(vip1) {
			t.Fatalf("while deaf: A %s, B %s; want FAULT and MASTER with the VIP on B only", a.state(t, "VI_1"), b.state(t, "VI_1"))
		}

		// Reopens come 1, 2 and 4 s apart: the one at deaf+7s reads again.
		ha.SetDeaf("eth0", false)
		time.Sleep(10 * time.Second)
		left := a.lastTo("VI_1", vrrp.Backup)
		if got := left.Sub(deaf); got != 7*time.Second {
			t.Errorf("A left FAULT %s after going deaf, want 7s (the reopen after healing)", got)
		}
		if got, want := a.lastTo("VI_1", vrrp.Master).Sub(left), vrrp.MasterDown(vrrp.V3, 150, time.Second); got != want {
			t.Errorf("A took over %s after leaving FAULT, want master_down %s", got, want)
		}
		if a.state(t, "VI_1") != vrrp.Master || b.state(t, "VI_1") != vrrp.Backup || !ha.Holds(vip1) || hb.Holds(vip1) {
			t.Errorf("after healing: A %s, B %s; want MASTER and BACKUP with the VIP on A only", a.state(t, "VI_1"), b.state(t, "VI_1"))
		}
	})
}

// Two instances in one sync_group move whole: a fault of one member on
// the master faults both, the peer takes both over after skew (both
// resigned), and when the fault clears both come back together after
// master_down (preempt).
func TestNodeSyncGroupMovesWhole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outside, inside, mgmt := vrrptest.NewWire(), vrrptest.NewWire(), vrrptest.NewWire()
		hosts := map[string]*vrrptest.Host{}
		dirs := map[string]*director{}
		for i, name := range []string{"dir-a", "dir-b"} {
			h := vrrptest.NewHost(name)
			h.AddInterface("eth0", outside, netip.AddrFrom4([4]byte{192, 0, 2, byte(11 + i)}))
			h.AddInterface("eth1", inside, netip.AddrFrom4([4]byte{198, 51, 100, byte(11 + i)}))
			h.AddInterface("eth2", mgmt, netip.AddrFrom4([4]byte{203, 0, 113, byte(11 + i)}))
			prio := uint8(150 - 50*i)
			vi1, vi2 := instance("VI_1", "eth0", 51, prio, vip1), instance("VI_2", "eth1", 52, prio, vip2)
			vi1.TrackInterfaces = []string{"eth2"}
			hosts[name] = h
			dirs[name] = startDirector(t, h, vrrp.NodeConfig{Instances: []vrrp.Config{vi1, vi2},
				SyncGroups: []vrrp.SyncGroup{{Name: "edge", Instances: []string{"VI_1", "VI_2"}}}})
		}
		a, b := dirs["dir-a"], dirs["dir-b"]
		states := func(d *director) [2]vrrp.State { return [2]vrrp.State{d.state(t, "VI_1"), d.state(t, "VI_2")} }
		time.Sleep(10 * time.Second)
		if states(a) != [2]vrrp.State{vrrp.Master, vrrp.Master} || states(b) != [2]vrrp.State{vrrp.Backup, vrrp.Backup} {
			t.Fatalf("A %v, B %v; want A master of both", states(a), states(b))
		}

		down := time.Now()
		hosts["dir-a"].SetLink("eth2", false) // VI_1's tracked interface
		time.Sleep(5 * time.Second)
		if states(a) != [2]vrrp.State{vrrp.Fault, vrrp.Fault} || states(b) != [2]vrrp.State{vrrp.Master, vrrp.Master} {
			t.Fatalf("after the fault: A %v, B %v; want A FAULT, B MASTER of both", states(a), states(b))
		}
		for _, name := range []string{"VI_1", "VI_2"} {
			if got, want := b.lastTo(name, vrrp.Master).Sub(down), vrrp.Skew(vrrp.V3, 100, time.Second); got != want {
				t.Errorf("B %s took over %s after the fault, want skew %s", name, got, want)
			}
		}
		if hosts["dir-a"].Holds(vip1) || hosts["dir-a"].Holds(vip2) || !hosts["dir-b"].Holds(vip1) || !hosts["dir-b"].Holds(vip2) {
			t.Error("the VIPs did not move whole to B")
		}

		up := time.Now()
		hosts["dir-a"].SetLink("eth2", true)
		time.Sleep(10 * time.Second)
		if states(a) != [2]vrrp.State{vrrp.Master, vrrp.Master} || states(b) != [2]vrrp.State{vrrp.Backup, vrrp.Backup} {
			t.Fatalf("after recovery: A %v, B %v; want A master of both again", states(a), states(b))
		}
		for _, name := range []string{"VI_1", "VI_2"} {
			if got, want := a.lastTo(name, vrrp.Master).Sub(up), vrrp.MasterDown(vrrp.V3, 150, time.Second); got != want {
				t.Errorf("A %s took back over %s after recovery, want master_down %s", name, got, want)
			}
		}
		if !hosts["dir-a"].Holds(vip1) || !hosts["dir-a"].Holds(vip2) || hosts["dir-b"].Holds(vip1) || hosts["dir-b"].Holds(vip2) {
			t.Error("the VIPs did not move whole back to A")
		}
	})
}

// Ending the node's context stops it as Stop does: the master resigns
// (the peer takes over after skew), gives up its VIPs, runs its stop
// script, and every goroutine of the node ends (synctest checks).
func TestNodeContextEndStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ha, hb := pair()
		cfg := instance("VI_1", "eth0", 51, 150, vip1)
		cfg.Notify.Stop = []string{"/bin/notify", "stop"}
		ctx, cancel := context.WithCancel(context.Background())
		a := vrrp.NewNode(ctx, ha.Deps(quiet()))
		if _, err := a.Apply(vrrp.NodeConfig{Instances: []vrrp.Config{cfg}}); err != nil {
			t.Fatal(err)
		}
		b := startDirector(t, hb, vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_1", "eth0", 51, 100, vip1)}})
		time.Sleep(10 * time.Second)
		stop := time.Now()
		cancel()
		a.Stop() // waits, as the context's end alone also stops it
		if ha.Holds(vip1) {
			t.Error("A holds the VIP after its stop")
		}
		if runs := ha.Runner.Runs(); len(runs) == 0 || !slices.Equal(runs[len(runs)-1], []string{"/bin/notify", "stop", "INIT", "VI_1"}) {
			t.Errorf("A ran %q; want the stop script last", runs)
		}
		if _, err := a.Apply(vrrp.NodeConfig{}); err != vrrp.ErrNodeStopped {
			t.Errorf("Apply after the stop: %v", err)
		}
		time.Sleep(5 * time.Second)
		if got, want := b.lastTo("VI_1", vrrp.Master).Sub(stop), vrrp.Skew(vrrp.V3, 100, time.Second); got != want {
			t.Errorf("B took over %s after A stopped, want skew %s", got, want)
		}
	})
}

// An interface deleted and created again with another address: the
// node reopens its socket on the new link and the instance (no
// source_ip) speaks from the new address.
func TestNodeRecreatedInterfaceMovesSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ha, hb := pair()
		a := startDirector(t, ha, vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_1", "eth0", 51, 150, vip1)}})
		b := startDirector(t, hb, vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_1", "eth0", 51, 100, vip1)}})
		time.Sleep(10 * time.Second)
		renumbered := netip.MustParseAddr("192.0.2.21")
		ha.Recreate("eth0", renumbered)
		time.Sleep(10 * time.Second)
		if r, _ := a.node.Instance("VI_1"); r.Source != renumbered {
			t.Errorf("A speaks from %s, want %s", r.Source, renumbered)
		}
		if a.state(t, "VI_1") != vrrp.Master || b.status(t, "VI_1").MasterIP != renumbered {
			t.Errorf("A %s, B follows %s; want A master from %s", a.state(t, "VI_1"), b.status(t, "VI_1").MasterIP, renumbered)
		}
	})
}

// slowRunner is a script runner whose scripts take half a second,
// recording the order they start in and how many ran at once.
type slowRunner struct {
	mu        sync.Mutex
	cur, peak int
	order     []string
}

func (r *slowRunner) Run(ctx context.Context, argv []string) error {
	r.mu.Lock()
	r.cur++
	r.peak = max(r.peak, r.cur)
	r.order = append(r.order, argv[0])
	r.mu.Unlock()
	time.Sleep(500 * time.Millisecond) // both end within StopScriptGrace
	r.mu.Lock()
	r.cur--
	r.mu.Unlock()
	return nil
}

// The stop takes instances down one at a time in configured order, and
// their stop scripts run one at a time in that order, so stop scripts that
// share state (a firewall, a route) never race; the resignations do not
// wait for the scripts (TestNodeStopNeverWaitsOnScripts).
func TestNodeStopIsSerial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := vrrptest.NewHost("dir-a")
		h.AddInterface("eth0", vrrptest.NewWire(), netip.MustParseAddr("192.0.2.11"))
		deps := h.Deps(quiet())
		r := &slowRunner{}
		deps.Runner = r
		n := vrrp.NewNode(t.Context(), deps)
		a := instance("VI_1", "eth0", 1, 150, vip1)
		a.Notify.Stop = []string{"/stop-VI_1"}
		b := instance("VI_2", "eth0", 2, 150, vip2)
		b.Notify.Stop = []string{"/stop-VI_2"}
		if _, err := n.Apply(vrrp.NodeConfig{Instances: []vrrp.Config{a, b}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		n.Stop()
		if r.peak != 1 || !slices.Equal(r.order, []string{"/stop-VI_1", "/stop-VI_2"}) {
			t.Errorf("stop scripts %v, %d at once; want VI_1's then VI_2's, one at a time", r.order, r.peak)
		}
		if h.Holds(vip1) || h.Holds(vip2) {
			t.Error("a VIP is still held after the stop")
		}
	})
}

// An instance replaced by a reload (its VRID changed) resigns with its own
// stop script, not the one the reload brings for its successor.
func TestNodeReplacedInstanceRunsItsOwnStopScript(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ha, _ := pair()
		cfg := vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_1", "eth0", 51, 150, vip1)}}
		cfg.Instances[0].Notify.Stop = []string{"/bin/stop-old"}
		a := startDirector(t, ha, cfg)
		time.Sleep(5 * time.Second)
		changed := vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_1", "eth0", 52, 150, vip1)}}
		changed.Instances[0].Notify.Stop = []string{"/bin/stop-new"}
		if _, err := a.node.Apply(changed); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		var stops []string
		for _, argv := range ha.Runner.Runs() {
			if strings.HasPrefix(argv[0], "/bin/stop-") {
				stops = append(stops, argv[0])
			}
		}
		if !slices.Equal(stops, []string{"/bin/stop-old"}) {
			t.Errorf("stop scripts run at the replacement: %v; want the old instance's own", stops)
		}
	})
}
