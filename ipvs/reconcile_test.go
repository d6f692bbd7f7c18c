package ipvs

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	vip     = netip.MustParseAddr("192.0.2.100")
	rs1     = dst("198.51.100.21", 80, 3)
	rs2     = dst("198.51.100.22", 80, 1)
	dnsVIP6 = netip.MustParseAddr("2001:db8::53")
)

func web() Service {
	return Service{Address: vip, Port: 80, Protocol: TCP, Scheduler: "wlc", PersistenceBits: 32}
}

func dns6() Service {
	return Service{Address: dnsVIP6, Port: 53, Protocol: UDP, IPv6: true, Scheduler: "mh", Flags: FlagSched1 | FlagSched2, PersistenceBits: 128}
}

func marked() Service {
	return Service{FWMark: 10, Protocol: TCP, Scheduler: "wlc", PersistenceBits: 32}
}

func dst(addr string, port uint16, weight int) Destination {
	return Destination{Address: netip.MustParseAddr(addr), Port: port, Weight: weight, Forwarding: NAT}
}

func fullTable() []Entry {
	d6 := dst("2001:db8::21", 53, 1)
	d6.Forwarding = Direct
	tun := dst("203.0.113.21", 0, 1)
	tun.Forwarding = Tunnel
	return []Entry{
		{Service: marked(), Destinations: []Destination{tun}},
		{Service: dns6(), Destinations: []Destination{d6}},
		{Service: web(), Destinations: []Destination{rs2, rs1}}, // order does not matter
	}
}

// apply runs one Apply and checks that the ops it returns are exactly
// want, and exactly what the kernel was asked to do.
func apply(t *testing.T, r *Reconciler, f *Fake, desired []Entry, want ...string) {
	t.Helper()
	ops, err := r.Apply(desired)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	expectOps(t, "returned", ops, want)
	expectOps(t, "kernel saw", f.TakeOps(), want)
}

func expectOps(t *testing.T, what string, ops []Op, want []string) {
	t.Helper()
	got := make([]string, len(ops))
	for i, op := range ops {
		got[i] = op.String()
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s ops:\n\t%s\nwant:\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// converged checks that the kernel now reads back as desired: a fresh Diff
// finds nothing.
func converged(t *testing.T, f *Fake, desired []Entry) {
	t.Helper()
	cur, _ := f.Services()
	ops, err := Diff(cur, desired)
	if err != nil || len(ops) != 0 {
		t.Errorf("kernel differs from desired: %v %v", ops, err)
	}
}

func TestApplyCreatesInOrder(t *testing.T) {
	f := NewFake()
	r := NewReconciler(f)
	apply(t, r, f, fullTable(),
		"create-service tcp 192.0.2.100:80 scheduler=wlc",
		"create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=3",
		"create-destination tcp 192.0.2.100:80 198.51.100.22:80 nat weight=1",
		"create-service udp [2001:db8::53]:53 scheduler=mh flags=mh-fallback,mh-port",
		"create-destination udp [2001:db8::53]:53 [2001:db8::21]:53 dr weight=1",
		"create-service fwmark 10/inet scheduler=wlc",
		"create-destination fwmark 10/inet 203.0.113.21:0 tun weight=1",
	)
	converged(t, f, fullTable())
	// Same table again, and after a restart (a new reconciler that knows
	// nothing but what it reads): nothing to do.
	apply(t, r, f, fullTable())
	apply(t, NewReconciler(f), f, fullTable())
}

func TestApplyRemoves(t *testing.T) {
	f := NewFake(fullTable()...)
	r := NewReconciler(f)
	desired := []Entry{{Service: web(), Destinations: []Destination{rs1}}, fullTable()[0]}
	// The service goes with its destinations: one operation, not two.
	apply(t, r, f, desired,
		"delete-service udp [2001:db8::53]:53",
		"delete-destination tcp 192.0.2.100:80 198.51.100.22:80",
	)
	converged(t, f, desired)
	apply(t, r, f, nil,
		"delete-service tcp 192.0.2.100:80",
		"delete-service fwmark 10/inet",
	)
	if got, _ := f.Services(); len(got) != 0 {
		t.Errorf("table not empty: %v", got)
	}
}

func TestApplyUpdatesInPlace(t *testing.T) {
	base := []Entry{{Service: web(), Destinations: []Destination{rs1, rs2}}}
	heavier := rs1
	heavier.Weight = 5
	direct := rs2
	direct.Forwarding = Direct
	limited := rs2
	limited.UpperThreshold, limited.LowerThreshold = 100, 10
	rr := web()
	rr.Scheduler = "rr"
	persistent := web()
	persistent.Persistence, persistent.PersistenceBits = 300*time.Second, 24
	wider := persistent
	wider.PersistenceBits = 16
	longer := wider
	longer.Persistence = 600 * time.Second
	sh := web()
	sh.Scheduler, sh.Flags = "sh", FlagSched2

	for _, tc := range []struct {
		name    string
		desired Entry
		want    []string
	}{
		{"weight", Entry{web(), []Destination{heavier, rs2}}, []string{"update-destination tcp 192.0.2.100:80 198.51.100.21:80 weight 3→5"}},
		{"forwarding", Entry{web(), []Destination{rs1, direct}}, []string{"update-destination tcp 192.0.2.100:80 198.51.100.22:80 forwarding nat→dr"}},
		{"thresholds", Entry{web(), []Destination{rs1, limited}}, []string{"update-destination tcp 192.0.2.100:80 198.51.100.22:80 upper 0→100, lower 0→10"}},
		{"scheduler", Entry{rr, []Destination{rs1, rs2}}, []string{"update-service tcp 192.0.2.100:80 scheduler wlc→rr"}},
		{"scheduler flags", Entry{sh, []Destination{rs1, rs2}}, []string{"update-service tcp 192.0.2.100:80 scheduler wlc→sh, flags none→sh-port"}},
		{"persistence on", Entry{persistent, []Destination{rs1, rs2}}, []string{"update-service tcp 192.0.2.100:80 persistence off→300s, netmask /32→/24"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFake(base...)
			r := NewReconciler(f)
			apply(t, r, f, []Entry{tc.desired}, tc.want...)
			converged(t, f, []Entry{tc.desired})
			apply(t, r, f, []Entry{tc.desired})
		})
	}

	t.Run("persistence netmask, timeout, off", func(t *testing.T) {
		f := NewFake(Entry{persistent, []Destination{rs1}})
		r := NewReconciler(f)
		apply(t, r, f, []Entry{{wider, []Destination{rs1}}}, "update-service tcp 192.0.2.100:80 netmask /24→/16")
		apply(t, r, f, []Entry{{longer, []Destination{rs1}}}, "update-service tcp 192.0.2.100:80 persistence 300s→600s")
		apply(t, r, f, []Entry{{web(), []Destination{rs1}}}, "update-service tcp 192.0.2.100:80 persistence 600s→off, netmask /16→/32")
		// Without persistence the netmask means nothing: no update for it.
		loose := web()
		loose.PersistenceBits = 8
		apply(t, r, f, []Entry{{loose, []Destination{rs1}}})
	})
}

func TestAdoptsExistingTable(t *testing.T) {
	stray := dst("198.51.100.29", 80, 7)
	foreign := Service{Address: netip.MustParseAddr("203.0.113.50"), Port: 443, Protocol: TCP, Scheduler: "rr"}
	// Left by an earlier run or by hand: web with its first server (the one
	// carrying connections) and a stray one, plus a service nobody wants.
	f := NewFake(
		Entry{web(), []Destination{rs1, stray}},
		Entry{foreign, []Destination{dst("198.51.100.50", 443, 1)}},
	)
	desired := []Entry{{web(), []Destination{rs1, rs2}}, fullTable()[1]}
	apply(t, NewReconciler(f), f, desired,
		"delete-service tcp 203.0.113.50:443",
		"create-destination tcp 192.0.2.100:80 198.51.100.22:80 nat weight=1",
		"delete-destination tcp 192.0.2.100:80 198.51.100.29:80",
		"create-service udp [2001:db8::53]:53 scheduler=mh flags=mh-fallback,mh-port",
		"create-destination udp [2001:db8::53]:53 [2001:db8::21]:53 dr weight=1",
	)
	converged(t, f, desired)
}

func TestRestartIssuesNothing(t *testing.T) {
	// A kernel table made by the stock tools reads back with the values the
	// kernel keeps; a desired table from conf states them its own way
	// (netmask unset, persistence with sub-second noise). Same meaning: no op.
	f := NewFake(fullTable()...)
	desired := fullTable()
	desired[2].Service.PersistenceBits = 0
	for range 3 {
		apply(t, NewReconciler(f), f, desired)
	}
	p := web()
	p.Persistence = 300 * time.Second
	f = NewFake(Entry{Service: p})
	p.Persistence = 299*time.Second + 500*time.Millisecond // rounds up to 300s, as sent
	apply(t, NewReconciler(f), f, []Entry{{Service: p}})
}

func TestApplyKeepsGoingOnErrors(t *testing.T) {
	f := NewFake()
	f.Fail = func(op Op) error {
		switch {
		case op.Kind == OpCreateDestination && op.Destination == rs2:
			return syscall.EPERM
		case op.Kind == OpCreateService && op.Service.Key() == dns6().Key():
			return syscall.ENOENT // as the kernel answers an unknown scheduler
		}
		return nil
	}
	ops, err := NewReconciler(f).Apply(fullTable())
	expectOps(t, "returned", ops, []string{
		"create-service tcp 192.0.2.100:80 scheduler=wlc",
		"create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=3",
		"create-service fwmark 10/inet scheduler=wlc",
		"create-destination fwmark 10/inet 203.0.113.21:0 tun weight=1",
	})
	// The failed service's destinations were not even tried.
	expectOps(t, "kernel saw", f.TakeOps(), []string{
		"create-service tcp 192.0.2.100:80 scheduler=wlc",
		"create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=3",
		"create-destination tcp 192.0.2.100:80 198.51.100.22:80 nat weight=1",
		"create-service udp [2001:db8::53]:53 scheduler=mh flags=mh-fallback,mh-port",
		"create-service fwmark 10/inet scheduler=wlc",
		"create-destination fwmark 10/inet 203.0.113.21:0 tun weight=1",
	})
	if !errors.Is(err, os.ErrPermission) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error %v: want both failures, errors.Is-able", err)
	}
	for _, want := range []string{
		"create-destination tcp 192.0.2.100:80 198.51.100.22:80: operation not permitted (IPVS needs CAP_NET_ADMIN",
		"create-service udp [2001:db8::53]:53: no such file or directory (scheduler not available in this kernel?)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// The next apply picks up what failed.
	f.Fail = nil
	apply(t, NewReconciler(f), f, fullTable(),
		"create-destination tcp 192.0.2.100:80 198.51.100.22:80 nat weight=1",
		"create-service udp [2001:db8::53]:53 scheduler=mh flags=mh-fallback,mh-port",
		"create-destination udp [2001:db8::53]:53 [2001:db8::21]:53 dr weight=1",
	)
}

func TestDiffRefusesDuplicates(t *testing.T) {
	if _, err := Diff(nil, []Entry{{Service: web()}, {Service: web()}}); err == nil {
		t.Error("a service twice is accepted")
	}
	if _, err := Diff(nil, []Entry{{Service: web(), Destinations: []Destination{rs1, rs1}}}); err == nil {
		t.Error("a destination twice is accepted")
	}
	f := NewFake()
	if _, err := NewReconciler(f).Apply([]Entry{{Service: web()}, {Service: web()}}); err == nil || len(f.Ops()) != 0 {
		t.Errorf("Apply of an invalid table: %v, ops %v; want an error and nothing applied", err, f.Ops())
	}
}

func TestApplyTimeouts(t *testing.T) {
	f := NewFake()
	r := NewReconciler(f)
	ops, err := r.ApplyTimeouts(Timeouts{TCP: time.Hour, UDP: 300 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	expectOps(t, "returned", ops, []string{"set-timeouts tcp 900s→3600s"})
	expectOps(t, "kernel saw", f.TakeOps(), []string{"set-timeouts tcp 900s→3600s"})
	if ops, _ := r.ApplyTimeouts(Timeouts{TCP: time.Hour}); len(ops) != 0 {
		t.Errorf("second apply: %v", ops)
	}
	if got, _ := f.Timeouts(); got != (Timeouts{TCP: time.Hour, TCPFin: 120 * time.Second, UDP: 300 * time.Second}) {
		t.Errorf("timeouts %v", got)
	}
}

func TestFakeAnswersLikeTheKernel(t *testing.T) {
	f := NewFake(Entry{web(), []Destination{rs1}})
	for _, tc := range []struct {
		name  string
		err   error
		is    []error
		inMsg string
	}{
		{"service twice", f.CreateService(web()), []error{os.ErrExist, syscall.EEXIST}, "already exists"},
		{"destination twice", f.CreateDestination(web(), rs1), []error{os.ErrExist}, "198.51.100.21:80"},
		{"missing service", f.DeleteService(dns6()), []error{os.ErrNotExist, syscall.ESRCH}, "no such service"},
		{"update missing service", f.UpdateService(dns6()), []error{os.ErrNotExist}, "no such service"},
		{"destination of missing service", f.CreateDestination(dns6(), rs1), []error{os.ErrNotExist}, "no such service"},
		{"missing destination", f.UpdateDestination(web(), rs2), []error{os.ErrNotExist, syscall.ENOENT}, "no such destination"},
		{"delete missing destination", f.DeleteDestination(web(), rs2), []error{os.ErrNotExist}, "no such destination"},
		{"unknown scheduler", f.CreateService(Service{Address: vip, Port: 443, Protocol: TCP, Scheduler: "twos?"}), []error{os.ErrNotExist}, "scheduler"},
		{"wrong family", f.CreateDestination(web(), dst("2001:db8::21", 80, 1)), []error{syscall.EINVAL}, "not of the family"},
		{"netmask too long", f.CreateService(Service{Address: vip, Port: 443, Protocol: TCP, Scheduler: "rr", Persistence: time.Minute, PersistenceBits: 33}), []error{syscall.EINVAL}, "/33"},
	} {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, target := range tc.is {
			if !errors.Is(tc.err, target) {
				t.Errorf("%s: %v is not %v", tc.name, tc.err, target)
			}
		}
		if !strings.Contains(tc.err.Error(), tc.inMsg) {
			t.Errorf("%s: %q lacks %q", tc.name, tc.err, tc.inMsg)
		}
	}
	// Failed changes are recorded too (the kernel was asked), but change nothing.
	if n := len(f.TakeOps()); n != 10 {
		t.Errorf("%d ops recorded, want 10", n)
	}
	converged(t, f, []Entry{{web(), []Destination{rs1}}})
}

func TestOpStrings(t *testing.T) {
	p := web()
	p.Persistence, p.PersistenceBits = 5*time.Minute, 24
	lim := rs1
	lim.UpperThreshold, lim.LowerThreshold = 50, 5
	for _, tc := range []struct {
		op   Op
		want string
	}{
		{Op{Kind: OpCreateService, Service: p}, "create-service tcp 192.0.2.100:80 scheduler=wlc persistence=300s netmask=/24"},
		{Op{Kind: OpCreateDestination, Service: web(), Destination: lim}, "create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=3 upper=50 lower=5"},
		{Op{Kind: OpDeleteService, Service: Service{FWMark: 7, IPv6: true}}, "delete-service fwmark 7/inet6"},
		{Op{Kind: OpSetTimeouts, Changes: []Change{{"tcp", "900s", "60s"}, {"udp", "300s", "10s"}}}, "set-timeouts tcp 900s→60s, udp 300s→10s"},
	} {
		if got := tc.op.String(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
	if got := FlagNames("rr", FlagSched1|FlagOnePacket|0x400); got != "one-packet,flag-1,0x400" {
		t.Errorf("FlagNames = %q", got)
	}
}
