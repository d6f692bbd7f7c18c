//go:build vmguest

package guest

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/vm/guestns"
)

// NotLoaded starts the failure message when the kernel has no IPVS; the
// harness's negative test looks for it.
const NotLoaded = "ip_vs is not loaded"

func TestMain(m *testing.M) {
	guestns.Main(m, "guest", "rewrite the kernel's IPVS table", "go test -tags vm ./test/vm/...")
}

// requireIPVS fails the test unless the IPVS module is really there: the
// proc file and the generic netlink family exist only once ip_vs is loaded.
func requireIPVS(t *testing.T) *netlink.GenlFamily {
	t.Helper()
	var problems []string
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		problems = append(problems, err.Error())
	}
	fam, err := netlink.GenlFamilyGet("IPVS")
	if err != nil {
		problems = append(problems, fmt.Sprintf("generic netlink family IPVS: %v", err))
	}
	if len(problems) > 0 {
		t.Fatalf("%s: %s", NotLoaded, strings.Join(problems, "; "))
	}
	return fam
}

// The service of the root namespace and the one of the extra namespace.
func webService() *ipvs.Service {
	return &ipvs.Service{
		AddressFamily: unix.AF_INET,
		Address:       net.ParseIP("192.0.2.100").To4(),
		Protocol:      unix.IPPROTO_TCP,
		Port:          80,
		SchedName:     ipvs.WeightedRoundRobin,
		Netmask:       0xffffffff,
	}
}

func webDestination() *ipvs.Destination {
	return &ipvs.Destination{
		AddressFamily:   unix.AF_INET,
		Address:         net.ParseIP("198.51.100.21").To4(),
		Port:            80,
		Weight:          3,
		ConnectionFlags: ipvs.ConnectionFlagMasq,
	}
}

func otherService() *ipvs.Service {
	return &ipvs.Service{
		AddressFamily: unix.AF_INET,
		Address:       net.ParseIP("203.0.113.10").To4(),
		Protocol:      unix.IPPROTO_TCP,
		Port:          443,
		SchedName:     ipvs.RoundRobin,
		Netmask:       0xffffffff,
	}
}

func TestIPVSLoaded(t *testing.T) {
	fam := requireIPVS(t)
	t.Logf("IPVS generic netlink family id %d, version %d", fam.ID, fam.Version)
}

func TestServiceRoundTrip(t *testing.T) {
	requireIPVS(t)
	h := newHandle(t, "")
	install(t, h, webService(), webDestination())

	svcs, err := h.GetServices()
	if err != nil {
		t.Fatalf("GetServices: %v", err)
	}
	if len(svcs) != 1 {
		t.Fatalf("GetServices: got %d services, want 1: %s", len(svcs), describe(svcs))
	}
	got, want := svcs[0], webService()
	if !got.Address.Equal(want.Address) || got.Port != want.Port || got.Protocol != want.Protocol ||
		got.SchedName != want.SchedName || got.AddressFamily != want.AddressFamily || got.Netmask != want.Netmask ||
		got.FWMark != 0 {
		t.Errorf("service read back as %+v, want %+v", got, want)
	}

	dsts, err := h.GetDestinations(got)
	if err != nil {
		t.Fatalf("GetDestinations: %v", err)
	}
	if len(dsts) != 1 {
		t.Fatalf("GetDestinations: got %d destinations, want 1", len(dsts))
	}
	d, wd := dsts[0], webDestination()
	if !d.Address.Equal(wd.Address) || d.Port != wd.Port || d.Weight != wd.Weight ||
		d.ConnectionFlags&ipvs.ConnFwdMask != ipvs.ConnFwdMasq || d.AddressFamily != wd.AddressFamily {
		t.Errorf("destination read back as %+v, want %+v", d, wd)
	}

	// The kernel's own view, through the stock tool.
	out := ipvsadmLn(t, "")
	mustMatch(t, out, `(?m)^TCP\s+192\.0\.2\.100:80\s+wrr\s*$`)
	mustMatch(t, out, `(?m)^\s+->\s+198\.51\.100\.21:80\s+Masq\s+3\s`)
}

func TestNamespaceIsolation(t *testing.T) {
	requireIPVS(t)
	root := newHandle(t, "")
	install(t, root, webService(), webDestination())

	nsPath := guestns.New(t, "lvsd-vm-ipvs")
	h := newHandle(t, nsPath)
	if svcs, err := h.GetServices(); err != nil {
		t.Fatalf("GetServices in new namespace: %v", err)
	} else if len(svcs) != 0 {
		t.Fatalf("new namespace starts with %d services, want an empty table: %s", len(svcs), describe(svcs))
	}
	install(t, h, otherService(), &ipvs.Destination{
		AddressFamily: unix.AF_INET,
		Address:       net.ParseIP("198.51.100.31").To4(),
		Port:          443,
		Weight:        1,
	})

	expectOnly(t, "root namespace", root, webService())
	expectOnly(t, "new namespace", h, otherService())

	out := ipvsadmLn(t, "")
	mustMatch(t, out, `192\.0\.2\.100:80`)
	if strings.Contains(out, "203.0.113.10") {
		t.Errorf("root namespace's ipvsadm -Ln shows the other namespace's service:\n%s", out)
	}
	out = ipvsadmLn(t, nsPath)
	mustMatch(t, out, `(?m)^TCP\s+203\.0\.113\.10:443\s+rr\s*$`)
	if strings.Contains(out, "192.0.2.100") {
		t.Errorf("new namespace's ipvsadm -Ln shows the root namespace's service:\n%s", out)
	}
}

// newHandle opens an IPVS handle in the namespace at nsPath ("" = current).
func newHandle(t *testing.T, nsPath string) *ipvs.Handle {
	t.Helper()
	h, err := ipvs.New(nsPath)
	if err != nil {
		t.Fatalf("ipvs.New(%q): %v", nsPath, err)
	}
	t.Cleanup(h.Close)
	return h
}

// install replaces the table behind h with svc and its destination.
func install(t *testing.T, h *ipvs.Handle, svc *ipvs.Service, dst *ipvs.Destination) {
	t.Helper()
	if err := h.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if err := h.NewService(svc); err != nil {
		t.Fatalf("NewService %s: %v", describe([]*ipvs.Service{svc}), err)
	}
	if err := h.NewDestination(svc, dst); err != nil {
		t.Fatalf("NewDestination %s:%d: %v", dst.Address, dst.Port, err)
	}
}

// expectOnly checks that the table behind h holds exactly want.
func expectOnly(t *testing.T, where string, h *ipvs.Handle, want *ipvs.Service) {
	t.Helper()
	svcs, err := h.GetServices()
	if err != nil {
		t.Fatalf("%s: GetServices: %v", where, err)
	}
	if len(svcs) != 1 || !svcs[0].Address.Equal(want.Address) || svcs[0].Port != want.Port {
		t.Errorf("%s: services %s, want only %s", where, describe(svcs), describe([]*ipvs.Service{want}))
	}
}

func mustMatch(t *testing.T, text, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(text) {
		t.Errorf("output does not match %s:\n%s", re, text)
	}
}

func describe(svcs []*ipvs.Service) string {
	var parts []string
	for _, s := range svcs {
		parts = append(parts, fmt.Sprintf("%d/%s:%d(%s)", s.Protocol, s.Address, s.Port, s.SchedName))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// ipvsadmLn is "ipvsadm -Ln" in the namespace at ns ("" = this one), logged.
func ipvsadmLn(t *testing.T, ns string) string {
	t.Helper()
	out := lab.Ipvsadm(t, ns, "-Ln")
	t.Logf("ipvsadm -Ln in %q:\n%s", ns, out)
	return out
}
