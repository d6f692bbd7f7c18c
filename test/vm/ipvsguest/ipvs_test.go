//go:build vmguest

package ipvsguest

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/vm/guestns"
	moby "github.com/moby/ipvs"
)

// TestNoIPVS runs only in the harness's VM without ip_vs, where a fake
// modprobe logs any call: Open must fail with ErrNoIPVS before moby/ipvs
// could run modprobe.
func TestNoIPVS(t *testing.T) {
	if os.Getenv("LVSD_EXPECT_NO_IPVS") != "1" {
		t.Skip("runs in a VM without ip_vs (host test TestIPVSWithoutModule)")
	}
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		t.Fatal("this kernel has IPVS: the test proves nothing here")
	}
	k, err := ipvs.Open("")
	if err == nil {
		k.Close()
		t.Fatal("Open succeeded without IPVS")
	}
	if !errors.Is(err, ipvs.ErrNoIPVS) {
		t.Fatalf("Open: %v; want ErrNoIPVS", err)
	}
	t.Logf("Open: %v", err)
	if b, err := os.ReadFile("/tmp/modprobe.log"); err == nil {
		t.Errorf("modprobe was run: %s", b)
	}
	// Positive control: moby/ipvs on its own does run it, and the fake
	// modprobe does log it.
	if h, err := moby.New(""); err == nil {
		h.Close()
	}
	if b, err := os.ReadFile("/tmp/modprobe.log"); err != nil || !strings.Contains(string(b), "ip_vs") {
		t.Errorf("moby.New did not run the logging modprobe (%v): the check above proves nothing", err)
	} else {
		t.Logf("moby.New alone ran: modprobe %s", b)
	}
}

// TestSchedulers creates a service with every scheduler of the model; sh
// and mh carry their flags, which must read back, also through ipvsadm.
func TestSchedulers(t *testing.T) {
	ns := guestns.New(t, "sched")
	k := openKernel(t, ns)
	var desired []ipvs.Entry
	for i, name := range ipvs.Schedulers {
		s := ipvs.Service{Address: addr("192.0.2.10"), Port: uint16(1000 + i), Protocol: ipvs.TCP, Scheduler: name}
		if name == "sh" || name == "mh" {
			s.Flags = ipvs.FlagSched1 | ipvs.FlagSched2 // <sched>-fallback, <sched>-port
		}
		if err := k.CreateService(s); err != nil {
			t.Errorf("scheduler %s: %v", name, err)
			continue
		}
		e := ipvs.Entry{Service: s}
		for j, a := range []string{"198.51.100.21", "198.51.100.22"} {
			d := ipvs.Destination{Address: addr(a), Port: 80, Weight: j + 1, Forwarding: ipvs.NAT}
			if err := k.CreateDestination(s, d); err != nil {
				t.Errorf("scheduler %s: %v", name, err)
			}
			e.Destinations = append(e.Destinations, d)
		}
		desired = append(desired, e)
	}
	got := mustConverge(t, k, desired)
	for _, e := range got {
		want := ipvs.Flags(0)
		if e.Service.Scheduler == "sh" || e.Service.Scheduler == "mh" {
			want = ipvs.FlagSched1 | ipvs.FlagSched2
		}
		if e.Service.Flags != want {
			t.Errorf("%s (%s) reads back flags %s, want %s", e.Service, e.Service.Scheduler,
				ipvs.FlagNames(e.Service.Scheduler, e.Service.Flags), ipvs.FlagNames(e.Service.Scheduler, want))
		}
	}
	out := lab.Ipvsadm(t, ns, "-Ln")
	t.Logf("ipvsadm -Ln:\n%s", out)
	for _, want := range []string{" sh (sh-fallback,sh-port)", " mh (mh-fallback,mh-port)"} {
		if !strings.Contains(out, want) {
			t.Errorf("ipvsadm -Ln lacks %q", want)
		}
	}
	matchIpvsadm(t, ns, k)
}

// TestKernelErrors checks that the real kernel's answers map to the same
// errors.Is values as the Fake's.
func TestKernelErrors(t *testing.T) {
	ns := guestns.New(t, "errors")
	k := openKernel(t, ns)
	s := ipvs.Service{Address: addr("192.0.2.30"), Port: 80, Protocol: ipvs.TCP, Scheduler: "wlc"}
	d := ipvs.Destination{Address: addr("198.51.100.21"), Port: 80, Weight: 1}
	if err := k.CreateService(s); err != nil {
		t.Fatal(err)
	}
	if err := k.CreateDestination(s, d); err != nil {
		t.Fatal(err)
	}
	other := s
	other.Port = 81
	unknown := s
	unknown.Port, unknown.Scheduler = 82, "nosuch"
	d2 := d
	d2.Port = 8080
	for _, tc := range []struct {
		name string
		err  error
		is   error
		hint string
	}{
		{"service twice", k.CreateService(s), os.ErrExist, "already exists"},
		{"destination twice", k.CreateDestination(s, d), os.ErrExist, "already exists"},
		{"update missing service", k.UpdateService(other), os.ErrNotExist, "no such service"},
		{"delete missing service", k.DeleteService(other), os.ErrNotExist, "no such service"},
		{"destination of missing service", k.CreateDestination(other, d), os.ErrNotExist, "no such service"},
		{"update missing destination", k.UpdateDestination(s, d2), os.ErrNotExist, "no such destination"},
		{"delete missing destination", k.DeleteDestination(s, d2), os.ErrNotExist, "no such destination"},
		{"unknown scheduler", k.CreateService(unknown), os.ErrNotExist, "scheduler"},
	} {
		if !errors.Is(tc.err, tc.is) || !strings.Contains(errString(tc.err), tc.hint) {
			t.Errorf("%s: %v; want errors.Is %v with %q", tc.name, tc.err, tc.is, tc.hint)
		} else {
			t.Logf("%s: %v", tc.name, tc.err)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestTimeouts sets the namespace's connection timeouts through the
// reconciler: only what differs, zero leaves a value alone.
func TestTimeouts(t *testing.T) {
	ns := guestns.New(t, "timeouts")
	k := openKernel(t, ns)
	def, err := k.Timeouts()
	if err != nil {
		t.Fatal(err)
	}
	if def != (ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}) {
		t.Errorf("a new namespace has timeouts %s, want the kernel's defaults 900/120/300 (as the Fake has)", def)
	}
	r := ipvs.NewReconciler(k)
	ops, err := r.ApplyTimeouts(ipvs.Timeouts{TCP: time.Hour, UDP: 300 * time.Second})
	if got := opStrings(ops); err != nil || !slices.Equal(got, []string{"set-timeouts tcp 900s→3600s"}) {
		t.Errorf("ApplyTimeouts: %q %v", got, err)
	}
	if got, _ := k.Timeouts(); got != (ipvs.Timeouts{TCP: time.Hour, TCPFin: 120 * time.Second, UDP: 300 * time.Second}) {
		t.Errorf("timeouts read back as %s", got)
	}
	if ops, err := r.ApplyTimeouts(ipvs.Timeouts{TCP: time.Hour}); err != nil || len(ops) != 0 {
		t.Errorf("second ApplyTimeouts: %q %v; want nothing", opStrings(ops), err)
	}
	out := lab.Ipvsadm(t, ns, "-L", "--timeout")
	if !strings.Contains(out, "Timeout (tcp tcpfin udp): 3600 120 300") {
		t.Errorf("ipvsadm -L --timeout: %s", out)
	}
}

// TestFWMarkAndIPv6 builds fwmark services of both families and IPv6
// services through the reconciler.
func TestFWMarkAndIPv6(t *testing.T) {
	ns := guestns.New(t, "fwm6")
	k := openKernel(t, ns)
	dest := func(a string, port uint16, w int, f ipvs.Forwarding) ipvs.Destination {
		return ipvs.Destination{Address: addr(a), Port: port, Weight: w, Forwarding: f}
	}
	desired := []ipvs.Entry{
		entry(ipvs.Service{FWMark: 10, Protocol: ipvs.TCP, Scheduler: "wlc"}, []ipvs.Destination{
			dest("203.0.113.21", 0, 1, ipvs.Tunnel), dest("203.0.113.22", 0, 2, ipvs.Direct)}),
		entry(ipvs.Service{FWMark: 11, IPv6: true, Scheduler: "rr"}, []ipvs.Destination{dest("2001:db8::31", 0, 1, ipvs.Direct)}),
		entry(ipvs.Service{Address: addr("2001:db8::80"), Port: 80, Protocol: ipvs.TCP, IPv6: true, Scheduler: "wrr"}, []ipvs.Destination{
			dest("2001:db8::21", 8080, 3, ipvs.NAT), dest("2001:db8::22", 8080, 1, ipvs.NAT)}),
		entry(ipvs.Service{Address: addr("2001:db8::53"), Port: 53, Protocol: ipvs.UDP, IPv6: true, Scheduler: "mh", Flags: ipvs.FlagSched2}, []ipvs.Destination{
			dest("2001:db8::23", 53, 1, ipvs.Direct)}),
	}
	ops, err := ipvs.NewReconciler(k).Apply(desired)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(ops) != 4+6 {
		t.Errorf("%d ops, want 10:\n\t%s", len(ops), strings.Join(opStrings(ops), "\n\t"))
	}
	got := mustConverge(t, k, desired)
	for _, e := range got {
		if e.Service.FWMark != 0 && e.Service.Protocol != 0 {
			// Documents the kernel: it reports no protocol for fwmark services.
			t.Errorf("fwmark service reads back with protocol %s", e.Service.Protocol)
		}
	}
	matchIpvsadm(t, ns, k)
}

// TestPersistenceNetmask round-trips persistence and the client netmask
// for IPv4 (a mask on the wire), IPv6 (a prefix length) and fwmark.
func TestPersistenceNetmask(t *testing.T) {
	ns := guestns.New(t, "persist")
	k := openKernel(t, ns)
	d := func(a string, port uint16) []ipvs.Destination {
		return []ipvs.Destination{{Address: addr(a), Port: port, Weight: 1, Forwarding: ipvs.Direct}}
	}
	desired := []ipvs.Entry{
		entry(ipvs.Service{Address: addr("192.0.2.20"), Port: 443, Protocol: ipvs.TCP, Scheduler: "wlc", Persistence: 300 * time.Second, PersistenceBits: 24}, d("198.51.100.21", 443)),
		entry(ipvs.Service{Address: addr("192.0.2.21"), Port: 0, Protocol: ipvs.TCP, Scheduler: "rr", Persistence: time.Minute, PersistenceBits: 32}, d("198.51.100.21", 0)),
		entry(ipvs.Service{Address: addr("2001:db8::443"), Port: 443, Protocol: ipvs.TCP, IPv6: true, Scheduler: "wlc", Persistence: 600 * time.Second, PersistenceBits: 64}, d("2001:db8::21", 443)),
		entry(ipvs.Service{FWMark: 12, Scheduler: "wlc", Persistence: 120 * time.Second, PersistenceBits: 16}, d("203.0.113.21", 0)),
	}
	r := ipvs.NewReconciler(k)
	if _, err := r.Apply(desired); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	mustConverge(t, k, desired)
	out := lab.Ipvsadm(t, ns, "-Ln")
	t.Logf("ipvsadm -Ln:\n%s", out)
	for _, want := range []string{"persistent 300 mask 255.255.255.0", "persistent 600 mask 64", "persistent 120 mask 255.255.0.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("ipvsadm -Ln lacks %q", want)
		}
	}
	matchIpvsadm(t, ns, k)

	// Narrow the mask in place, then drop persistence.
	desired[0].Service.PersistenceBits = 28
	desired[2].Service.Persistence, desired[2].Service.PersistenceBits = 0, 128
	ops, err := r.Apply(desired)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []string{
		"update-service tcp 192.0.2.20:443 netmask /24→/28",
		"update-service tcp [2001:db8::443]:443 persistence 600s→off, netmask /64→/128",
	}
	if got := opStrings(ops); !slices.Equal(got, want) {
		t.Errorf("ops %q, want %q", got, want)
	}
	mustConverge(t, k, desired)
	matchIpvsadm(t, ns, k)
}

// TestHashedNeverLeaks shows the kernel does report HASHED, on create and
// after an update, and that the model never sees it.
func TestHashedNeverLeaks(t *testing.T) {
	ns := guestns.New(t, "hashed")
	k := openKernel(t, ns)
	s := ipvs.Service{Address: addr("192.0.2.40"), Port: 80, Protocol: ipvs.TCP, Scheduler: "sh", Flags: ipvs.FlagSched2}
	r := ipvs.NewReconciler(k)
	if _, err := r.Apply([]ipvs.Entry{{Service: s}}); err != nil {
		t.Fatal(err)
	}
	s.Scheduler, s.Flags = "mh", ipvs.FlagSched1
	if ops, err := r.Apply([]ipvs.Entry{{Service: s}}); err != nil || len(ops) != 1 {
		t.Fatalf("update: %v %v", ops, err)
	}
	h, err := moby.New(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	raw, err := h.GetServices()
	if err != nil || len(raw) != 1 {
		t.Fatalf("moby GetServices: %v, %d services", err, len(raw))
	}
	if raw[0].Flags&uint32(ipvs.FlagHashed) == 0 {
		t.Errorf("kernel flags %#x lack HASHED: the masking is untested", raw[0].Flags)
	}
	t.Logf("kernel reports flags %#x", raw[0].Flags)
	got, err := k.Services()
	if err != nil {
		t.Fatal(err)
	}
	if f := got[0].Service.Flags; f != ipvs.FlagSched1 {
		t.Errorf("model flags %s, want mh-fallback only", ipvs.FlagNames("mh", f))
	}
}

// TestReconcilerConverges builds a table of several services, applies a
// changed one, and checks every step against the kernel, the Fake and
// ipvsadm. Applying the same table again, or after a "restart" (a new
// handle and reconciler), changes nothing.
func TestReconcilerConverges(t *testing.T) {
	ns := guestns.New(t, "reconcile")
	k := openKernel(t, ns)
	fake := ipvs.NewFake()
	r, rf := ipvs.NewReconciler(k), ipvs.NewReconciler(fake)
	step := func(name string, desired []ipvs.Entry, want []string) {
		t.Helper()
		ops, err := r.Apply(desired)
		if err != nil {
			t.Fatalf("%s: Apply: %v", name, err)
		}
		fops, _ := rf.Apply(desired)
		got := opStrings(ops)
		t.Logf("%s: %d ops:\n\t%s", name, len(ops), strings.Join(got, "\n\t"))
		if want != nil && !slices.Equal(got, want) {
			t.Errorf("%s: ops differ from\n\t%s", name, strings.Join(want, "\n\t"))
		}
		if !slices.Equal(got, opStrings(fops)) {
			t.Errorf("%s: the Fake applied other ops:\n\t%s", name, strings.Join(opStrings(fops), "\n\t"))
		}
		mustConverge(t, k, desired)
		matchIpvsadm(t, ns, k)
		if ops, err := r.Apply(desired); err != nil || len(ops) != 0 {
			t.Errorf("%s: second apply: %v, %v; want no ops", name, opStrings(ops), err)
		}
		restarted := openKernel(t, ns)
		if ops, err := ipvs.NewReconciler(restarted).Apply(desired); err != nil || len(ops) != 0 {
			t.Errorf("%s: apply after restart: %v, %v; want no ops", name, opStrings(ops), err)
		}
	}
	d := func(a string, port uint16, w int, f ipvs.Forwarding) ipvs.Destination {
		return ipvs.Destination{Address: addr(a), Port: port, Weight: w, Forwarding: f}
	}
	web := ipvs.Service{Address: addr("192.0.2.100"), Port: 80, Protocol: ipvs.TCP, Scheduler: "wlc", PersistenceBits: 32}
	tls := ipvs.Service{Address: addr("192.0.2.100"), Port: 443, Protocol: ipvs.TCP, Scheduler: "sh", Flags: ipvs.FlagSched2, Persistence: 300 * time.Second, PersistenceBits: 24}
	dns := ipvs.Service{Address: addr("192.0.2.53"), Port: 53, Protocol: ipvs.UDP, Scheduler: "rr"}
	diameter := ipvs.Service{Address: addr("192.0.2.110"), Port: 3868, Protocol: ipvs.SCTP, Scheduler: "lc"}
	marked := ipvs.Service{FWMark: 10, Protocol: ipvs.TCP, Scheduler: "wlc"}
	web6 := ipvs.Service{Address: addr("2001:db8::80"), Port: 80, Protocol: ipvs.TCP, IPv6: true, Scheduler: "wrr"}
	first := []ipvs.Entry{
		entry(web, []ipvs.Destination{d("198.51.100.21", 8080, 3, ipvs.NAT), d("198.51.100.22", 8080, 1, ipvs.NAT), d("198.51.100.23", 8080, 1, ipvs.NAT)}),
		entry(tls, []ipvs.Destination{d("198.51.100.21", 443, 1, ipvs.Direct), d("198.51.100.22", 443, 1, ipvs.Direct)}),
		entry(dns, []ipvs.Destination{d("198.51.100.31", 53, 1, ipvs.NAT), d("198.51.100.32", 53, 1, ipvs.NAT)}),
		entry(diameter, []ipvs.Destination{d("198.51.100.41", 3868, 1, ipvs.NAT)}),
		entry(marked, []ipvs.Destination{d("203.0.113.21", 0, 2, ipvs.Tunnel)}),
		entry(web6, []ipvs.Destination{d("2001:db8::21", 80, 1, ipvs.NAT)}),
	}
	step("build", first, nil)

	rr := web
	rr.Scheduler = "rr"
	longer := tls
	longer.Persistence, longer.PersistenceBits = 600*time.Second, 16
	extra := ipvs.Service{Address: addr("192.0.2.101"), Port: 80, Protocol: ipvs.TCP, Scheduler: "wlc"}
	second := []ipvs.Entry{
		entry(rr, []ipvs.Destination{d("198.51.100.21", 8080, 5, ipvs.NAT), d("198.51.100.22", 8080, 1, ipvs.NAT), d("198.51.100.24", 8080, 1, ipvs.NAT)}),
		entry(longer, first[1].Destinations),
		entry(diameter, first[3].Destinations),
		entry(marked, []ipvs.Destination{d("203.0.113.21", 0, 2, ipvs.Direct)}),
		entry(web6, first[5].Destinations),
		entry(extra, []ipvs.Destination{d("198.51.100.25", 80, 1, ipvs.NAT)}),
	}
	step("change", second, []string{
		"delete-service udp 192.0.2.53:53",
		"update-service tcp 192.0.2.100:80 scheduler wlc→rr",
		"create-destination tcp 192.0.2.100:80 198.51.100.24:8080 nat weight=1",
		"update-destination tcp 192.0.2.100:80 198.51.100.21:8080 weight 3→5",
		"delete-destination tcp 192.0.2.100:80 198.51.100.23:8080",
		"update-service tcp 192.0.2.100:443 persistence 300s→600s, netmask /24→/16",
		"create-service tcp 192.0.2.101:80 scheduler=wlc",
		"create-destination tcp 192.0.2.101:80 198.51.100.25:80 nat weight=1",
		"update-destination fwmark 10/inet 203.0.113.21:0 forwarding tun→dr",
	})
}

// matchIpvsadm compares the table read through the Kernel interface with
// the one ipvsadm prints: services, schedulers, flags, persistence,
// forwarding and weights.
func matchIpvsadm(t *testing.T, ns string, k ipvs.Kernel) {
	t.Helper()
	out := lab.Ipvsadm(t, ns, "-Ln")
	theirs := parseIpvsadm(t, out)
	ours, err := k.Services()
	if err != nil {
		t.Fatal(err)
	}
	// ipvsadm sorts its own way; compare as sets keyed like the kernel.
	byKey := map[ipvs.ServiceKey]ipvs.Entry{}
	for _, e := range theirs {
		slices.SortFunc(e.Destinations, func(a, b ipvs.Destination) int { return a.Key().Compare(b.Key()) })
		byKey[e.Service.Key()] = e
	}
	if len(theirs) != len(ours) {
		t.Errorf("ipvsadm lists %d services, the Kernel %d:\n%s", len(theirs), len(ours), out)
	}
	for _, e := range ours {
		// ipvsadm shows no thresholds, and a netmask only with persistence.
		for i := range e.Destinations {
			e.Destinations[i].UpperThreshold, e.Destinations[i].LowerThreshold = 0, 0
		}
		if e.Service.Persistence == 0 {
			e.Service.PersistenceBits = 32
			if e.Service.IPv6 {
				e.Service.PersistenceBits = 128
			}
		}
		if theirs := byKey[e.Service.Key()]; !reflect.DeepEqual(theirs, e) {
			t.Errorf("service %s:\n\tKernel:  %s\n\tipvsadm: %s", e.Service, dump(e), dump(theirs))
		}
	}
	if t.Failed() {
		t.Logf("ipvsadm -Ln:\n%s", out)
	}
}

// dump shows every field of e that ipvsadm shows.
func dump(e ipvs.Entry) string {
	s := e.Service
	out := fmt.Sprintf("%s proto=%d v6=%v sched=%s flags=%s persistence=%v bits=%d", s, s.Protocol, s.IPv6, s.Scheduler,
		ipvs.FlagNames(s.Scheduler, s.Flags), s.Persistence, s.PersistenceBits)
	for _, d := range e.Destinations {
		out += fmt.Sprintf(" [%s %s w=%d]", d, d.Forwarding, d.Weight)
	}
	return out
}
