package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/internal/control"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
	"github.com/lvsd/lvsd/vrrp/vrrptest"

	lvsync "github.com/lvsd/lvsd/sync"
)

var (
	quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
	vip   = netip.MustParsePrefix("192.0.2.100/24")
)

// fakeSync is sync.Fake with the Close the kernel handle has.
type fakeSync struct{ *lvsync.Fake }

func (fakeSync) Close() error { return nil }

// lab is one director on fakes: a vrrptest host on a wire (its "lo"
// interface, which the config names so that conf's host check passes),
// ipvs.Fake and sync.Fake.
type lab struct {
	wire *vrrptest.Wire
	host *vrrptest.Host
	ipvs *ipvs.Fake
	sync *lvsync.Fake
	file string
}

func newLab(t *testing.T) *lab {
	w := vrrptest.NewWire()
	h := vrrptest.NewHost("dir-a")
	h.AddInterface("lo", w, netip.MustParseAddr("192.0.2.11"))
	return &lab{wire: w, host: h, ipvs: ipvs.NewFake(), sync: lvsync.NewFake(), file: filepath.Join(t.TempDir(), "lvsd.hcl")}
}

func (l *lab) Host() Host {
	return Host{
		VRRP:     l.host.Deps(quiet),
		OpenIPVS: func() (ipvs.Kernel, error) { return l.ipvs, nil },
		OpenSync: func() (SyncKernel, error) { return fakeSync{l.sync}, nil },
	}
}

// write writes the configuration file: global settings for this test
// process, then body.
func (l *lab) write(t *testing.T, body string) {
	t.Helper()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	global := fmt.Sprintf("global {\n  router_id = \"dir-a\"\n  control_socket = %q\n  script_user = %q\n}\n",
		filepath.Join(filepath.Dir(l.file), "lvsd.sock"), me.Username)
	if err := os.WriteFile(l.file, []byte(global+body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (l *lab) load(t *testing.T) *conf.Config {
	t.Helper()
	cfg, diags := conf.Load(l.file)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	return cfg
}

const pairHCL = `
vrrp "VI_1" {
  interface         = "lo"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = %q
  virtual_ips       = ["192.0.2.100/24"]
}

connection_sync {
  interface = "lo"
  instance  = "VI_1"
}

virtual_server "web" {
  address    = "192.0.2.100:80"
  scheduler  = "rr"
  forwarding = "dr"
  real_server "192.0.2.21:80" {}
  real_server "192.0.2.22:80" {
    weight = %d
  }
}
`

func running(t *testing.T, f *lvsync.Fake) []lvsync.State {
	t.Helper()
	ds, _ := f.Daemons()
	var out []lvsync.State
	for _, d := range ds {
		out = append(out, d.State)
	}
	return out
}

func table(t *testing.T, k *ipvs.Fake) map[string]int {
	t.Helper()
	es, err := k.Services()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range es {
		for _, d := range e.Destinations {
			out[e.Service.String()+" -> "+d.Address.String()] = d.Weight
		}
	}
	return out
}

// The daemon's wiring, on fakes: VRRP state drives connection sync, the
// director programs IPVS, a reload changes one weight by one operation
// and keeps the master master, a higher-priority peer moves sync to the
// backup daemon, and the stop resigns, stops sync and leaves IPVS.
func TestDaemonWiring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		l.write(t, fmt.Sprintf(pairHCL, "1s", 2))
		cfg := l.load(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		d, err := New(ctx, cfg, l.Host(), Options{Log: quiet, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		d.mu.Lock()
		err = d.apply(cfg, nil)
		d.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := running(t, l.sync); !slices.Equal(got, []lvsync.State{lvsync.Backup}) {
			t.Errorf("before mastership the sync daemons are %v; want backup", got)
		}
		// Alone on the wire, VI_1 is master after master_down.
		time.Sleep(vrrp.MasterDown(vrrp.V3, 150, time.Second) + time.Millisecond)
		synctest.Wait()
		st := d.Status()
		if len(st.Instances) != 1 || st.Instances[0].State != "MASTER" || !l.host.Holds(vip) {
			t.Fatalf("status %+v; VIP held: %v", st.Instances, l.host.Holds(vip))
		}
		if got := running(t, l.sync); !slices.Equal(got, []lvsync.State{lvsync.Master}) {
			t.Errorf("as master the sync daemons are %v; want master", got)
		}
		if st.Sync == nil || st.Sync.Instance != "VI_1" || !st.Sync.Master || len(st.Sync.Daemons) != 1 {
			t.Errorf("sync status %+v", st.Sync)
		}
		want := map[string]int{"tcp 192.0.2.100:80 -> 192.0.2.21": 1, "tcp 192.0.2.100:80 -> 192.0.2.22": 2}
		if got := table(t, l.ipvs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("IPVS table %v; want %v", got, want)
		}
		if len(st.Services) != 1 || len(st.Services[0].RealServers) != 2 || !st.Services[0].QuorumMet {
			t.Errorf("services %+v", st.Services)
		}

		// A reload that changes one weight: one operation, no transition.
		l.ipvs.TakeOps()
		transitions := st.Instances[0].Transitions
		l.write(t, fmt.Sprintf(pairHCL, "1s", 4))
		changes, err := d.Reload()
		if err != nil || strings.Join(changes, "; ") != "1 real server or service changes" {
			t.Errorf("reload: %q, %v", changes, err)
		}
		synctest.Wait()
		if ops := l.ipvs.TakeOps(); len(ops) != 1 || ops[0].Kind != ipvs.OpUpdateDestination || ops[0].Destination.Weight != 4 {
			t.Errorf("the reload did %v; want one weight update to 4", ops)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if in := d.Status().Instances[0]; in.State != "MASTER" || in.Transitions != transitions {
			t.Errorf("after the reload: %s with %d transitions, was MASTER with %d", in.State, in.Transitions, transitions)
		}

		// A peer of higher priority takes over: sync follows to backup.
		peer := vrrptest.NewHost("dir-b")
		peer.AddInterface("lo", l.wire, netip.MustParseAddr("192.0.2.12"))
		node := vrrp.NewNode(ctx, peer.Deps(quiet))
		peerCfg := cfg.Instances[0]
		peerCfg.Priority = 200
		if _, err := node.Apply(vrrp.NodeConfig{Instances: []vrrp.Config{peerCfg}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if in := d.Status().Instances[0]; in.State != "BACKUP" || l.host.Holds(vip) || !peer.Holds(vip) {
			t.Errorf("with a peer of priority 200: %s; VIP here %v, on the peer %v", in.State, l.host.Holds(vip), peer.Holds(vip))
		}
		if got := running(t, l.sync); !slices.Equal(got, []lvsync.State{lvsync.Backup}) {
			t.Errorf("as backup the sync daemons are %v; want backup", got)
		}
		node.Stop()
		time.Sleep(5 * time.Second) // the peer resigned: VI_1 is master again
		synctest.Wait()
		if in := d.Status().Instances[0]; in.State != "MASTER" || !l.host.Holds(vip) {
			t.Errorf("after the peer's stop: %s", in.State)
		}

		// The stop resigns and stops sync; the IPVS table stays.
		d.stop()
		synctest.Wait()
		if l.host.Holds(vip) {
			t.Error("the VIP is still held after the stop")
		}
		if got := running(t, l.sync); len(got) != 0 {
			t.Errorf("after the stop the sync daemons are %v", got)
		}
		if got := table(t, l.ipvs); len(got) != 2 {
			t.Errorf("the stop changed the IPVS table: %v", got)
		}
		if _, err := d.Reload(); !errors.Is(err, ErrStopping) {
			t.Errorf("reload while stopping: %v", err)
		}
	})
}

// Run serves the control socket, reloads on SIGHUP, and stops in order
// when its context ends: the VIP goes, flush_on_stop aside the table stays.
func TestRunServesAndStops(t *testing.T) {
	l := newLab(t)
	l.write(t, fmt.Sprintf(pairHCL, "50ms", 2))
	cfg := l.load(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	d, err := New(ctx, cfg, l.Host(), Options{Log: quiet, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	hup := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- d.Run(hup) }()
	socket := cfg.Global.ControlSocket
	var st *control.Status
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, err = control.GetStatus(socket)
		if err == nil {
			if in, ok := st.Instance("VI_1"); ok && in.State == "MASTER" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("VI_1 not master over the control socket: %+v, %v", st, err)
		}
	}
	if st.Version != "test" || st.RouterID != "dir-a" || len(st.Services) != 1 {
		t.Errorf("status %+v", st)
	}
	l.write(t, fmt.Sprintf(pairHCL, "50ms", 5))
	hup <- os.Interrupt // any signal on the channel asks for a reload
	for deadline := time.Now().Add(20 * time.Second); d.Status().Reloads == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reload")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if l.host.Holds(vip) {
		t.Error("the VIP is still held after Run returned")
	}
	if _, err := control.GetStatus(socket); err == nil {
		t.Error("the control socket still answers after Run returned")
	}
	if got := table(t, l.ipvs); got["tcp 192.0.2.100:80 -> 192.0.2.22"] != 5 {
		t.Errorf("the table after the stop: %v; want it kept, with the reloaded weight", got)
	}
}

// Once stopping, lvsd refuses a reload or a drill that raced the stop,
// with a clear reason, instead of starting what the stop is tearing down.
func TestStoppingRefusesReloadAndDrill(t *testing.T) {
	l := newLab(t)
	l.write(t, "")
	cfg := l.load(t)
	d, err := New(t.Context(), cfg, l.Host(), Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reload(); err != nil {
		t.Fatalf("reload before the stop: %v", err)
	}
	d.stop()
	if _, err := d.Reload(); !errors.Is(err, ErrStopping) {
		t.Errorf("reload while stopping: %v", err)
	}
	if _, err := d.Drill("", 0); !errors.Is(err, ErrStopping) {
		t.Errorf("drill while stopping: %v", err)
	}
	if got := d.reloadKO.Load(); got != 1 {
		t.Errorf("%d failed reloads counted, want 1", got)
	}
}

// A daemon that cannot start (here: another lvsd answers on the control
// socket) leaves the IPVS table it adopted as it was, flush_on_stop or
// not: the table is the running director's.
func TestFailedStartFlushesNothing(t *testing.T) {
	l := newLab(t)
	l.write(t, fmt.Sprintf(pairHCL, "1s", 2))
	body, err := os.ReadFile(l.file)
	if err != nil {
		t.Fatal(err)
	}
	withFlush := strings.Replace(string(body), "global {\n", "global {\n  flush_on_stop = true\n", 1)
	if err := os.WriteFile(l.file, []byte(withFlush), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := l.load(t)
	if !cfg.Global.FlushOnStop {
		t.Fatal("flush_on_stop not set")
	}
	running, err := control.Listen(cfg.Global.ControlSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()
	go control.Serve(t.Context(), running, &Daemon{}, quiet)

	d, err := New(t.Context(), cfg, l.Host(), Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(nil); !errors.Is(err, control.ErrRunning) {
		t.Fatalf("Run beside a running daemon: %v; want ErrRunning", err)
	}
	for _, op := range l.ipvs.Ops() {
		if op.Kind == ipvs.OpDeleteService || op.Kind == ipvs.OpDeleteDestination {
			t.Errorf("the failed start did %v", op)
		}
	}
	if l.host.Holds(vip) {
		t.Error("the failed start left the VIP held")
	}
}

// A stop asked for before Run (a signal during the start) still runs the
// configuration, then stops it in order, and Run reports a clean stop.
func TestStopBeforeRunIsClean(t *testing.T) {
	l := newLab(t)
	l.write(t, fmt.Sprintf(pairHCL, "1s", 2))
	cfg := l.load(t)
	ctx, cancel := context.WithCancel(t.Context())
	d, err := New(ctx, cfg, l.Host(), Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := d.Run(nil); err != nil {
		t.Fatalf("Run after its context ended: %v", err)
	}
	if got := running(t, l.sync); len(got) != 0 {
		t.Errorf("sync daemons %v after the stop", got)
	}
}
