package director

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
)

var (
	webSvc = ipvs.Service{Address: netip.MustParseAddr("192.0.2.100"), Port: 80, Protocol: ipvs.TCP, Scheduler: "wlc", PersistenceBits: 32}
	quiet  = slog.New(slog.NewTextHandler(io.Discard, nil))
	check  = &healthcheck.Config{Kind: healthcheck.TCP, Interval: time.Hour, Timeout: time.Second, Rise: 1, Fall: 1, Port: 80}
)

func rs(ip string, weight int) conf.RealServer {
	return conf.RealServer{
		Destination: ipvs.Destination{Address: netip.MustParseAddr(ip), Port: 80, Weight: weight, Forwarding: ipvs.Direct},
		Check:       check,
	}
}

func webConfig(quorum, hysteresis int, servers ...conf.RealServer) *conf.Config {
	return &conf.Config{VirtualServers: []conf.VirtualServer{{
		Name: "web", Service: webSvc, Forwarding: ipvs.Direct, Quorum: quorum, Hysteresis: hysteresis, RealServers: servers,
	}}}
}

func healthy(d *Director) map[string]bool {
	out := map[string]bool{}
	for _, s := range d.Status() {
		for _, r := range s.RealServers {
			out[r.Address] = r.Healthy
		}
	}
	return out
}

// A real server starts as the kernel has it: present with a weight, or
// at the weight 0 it is configured with (drained), is up and stays in the
// table; absent, it waits for its checks.
func TestDirectorAdoptsTheKernelTable(t *testing.T) {
	fake := ipvs.NewFake(ipvs.Entry{Service: webSvc, Destinations: []ipvs.Destination{
		{Address: netip.MustParseAddr("192.0.2.21"), Port: 80, Weight: 3, Forwarding: ipvs.Direct},
		{Address: netip.MustParseAddr("192.0.2.22"), Port: 80, Weight: 0, Forwarding: ipvs.Direct},
	}})
	d, err := New(webConfig(1, 0, rs("192.0.2.21", 3), rs("192.0.2.22", 0), rs("192.0.2.23", 1)), fake, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"192.0.2.21:80": true, "192.0.2.22:80": true, "192.0.2.23:80": false}
	if got := healthy(d); !equalMaps(got, want) {
		t.Errorf("initial health %v, want %v", got, want)
	}
	d.reconcile()
	if ops := fake.Ops(); len(ops) != 0 {
		t.Errorf("adopting the table issued %v, want nothing", ops)
	}
}

// A failed operation is retried, and a table changed behind lvsd's back
// is mended by the periodic pass.
func TestDirectorRetriesAndResyncs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := ipvs.NewFake()
		failures := 1
		fake.Fail = func(ipvs.Op) error {
			if failures > 0 {
				failures--
				return errors.New("ENOMEM")
			}
			return nil
		}
		noCheck := rs("192.0.2.21", 1)
		noCheck.Check = nil
		d, err := New(webConfig(1, 0, noCheck), fake, nil, quiet)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go d.Run(ctx, nil)
		time.Sleep(6 * time.Second) // the retry comes 5s after the failure
		if entries, _ := fake.Services(); len(entries) != 1 || len(entries[0].Destinations) != 1 {
			t.Fatalf("after a failed create and its retry: %v", entries)
		}
		fake.DeleteService(webSvc) // ipvsadm -D behind lvsd's back
		time.Sleep(resyncEvery)
		if entries, _ := fake.Services(); len(entries) != 1 {
			t.Errorf("the periodic pass did not restore the service: %v", entries)
		}
	})
}

// The quorum metric follows the hysteresis band, as the table does.
func TestDirectorQuorumHysteresis(t *testing.T) {
	fake := ipvs.NewFake()
	d, err := New(webConfig(2, 1, rs("192.0.2.21", 1), rs("192.0.2.22", 1), rs("192.0.2.23", 1)), fake, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	set := func(ip string, up bool) {
		state := healthcheck.Down
		if up {
			state = healthcheck.Up
		}
		d.onHealth(healthcheck.Event{Key: healthcheck.Key("web/" + ip + ":80"), State: state})
		d.reconcile()
	}
	met := func() bool { return d.Status()[0].QuorumMet }
	set("192.0.2.21", true)
	set("192.0.2.22", true)
	if met() {
		t.Error("healthy weight 2 from down: up needs quorum + hysteresis = 3")
	}
	set("192.0.2.23", true)
	if !met() {
		t.Error("healthy weight 3: quorum met")
	}
	set("192.0.2.23", false)
	if !met() {
		t.Error("healthy weight 2 from up: down only below quorum − hysteresis = 1")
	}
}

func equalMaps(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// killedRunner runs every script until ctx ends, then takes kill to
// kill it, as the daemon's runner does (SIGTERM, grace, SIGKILL).
type killedRunner struct {
	kill    time.Duration
	started chan []string
}

func (r *killedRunner) Run(ctx context.Context, argv []string) error {
	r.started <- argv
	<-ctx.Done()
	time.Sleep(r.kill)
	return ctx.Err()
}

// A notify_up/notify_down script that hangs holds up no reconcile; at the
// end Run returns only once the runner has killed it, so nothing of it
// outlives lvsd.
func TestDirectorNotifyNeverHoldsRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := ipvs.NewFake()
		noCheck := rs("192.0.2.21", 1)
		noCheck.Check = nil
		d, err := New(webConfig(1, 0, noCheck), fake, nil, quiet)
		if err != nil {
			t.Fatal(err)
		}
		r := &killedRunner{kill: 500 * time.Millisecond, started: make(chan []string, 1)}
		d.notify <- []string{"/bin/rs-event", "up", "UP", "192.0.2.21:80"}
		ctx, cancel := context.WithCancel(context.Background())
		ended := make(chan time.Time, 1)
		go func() { d.Run(ctx, r); ended <- time.Now() }()
		<-r.started
		synctest.Wait()
		if entries, _ := fake.Services(); len(entries) != 1 {
			t.Errorf("with a notify script hanging the table is %v, want the service", entries)
		}
		stop := time.Now()
		cancel()
		if got := (<-ended).Sub(stop); got != r.kill {
			t.Errorf("Run returned %s after the end, want %s: once the script is killed", got, r.kill)
		}
	})
}
