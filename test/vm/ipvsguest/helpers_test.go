//go:build vmguest

package ipvsguest

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/vm/guestns"
)

// openKernel opens the IPVS table of the namespace at path.
func openKernel(t *testing.T, path string) *ipvs.Netlink {
	t.Helper()
	k, err := ipvs.Open(path)
	if err != nil {
		t.Fatalf("ipvs.Open(%q): %v", path, err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

var ipvsadmForwarding = map[string]ipvs.Forwarding{"Masq": ipvs.NAT, "Route": ipvs.Direct, "Tunnel": ipvs.Tunnel}

// parseIpvsadm reads "ipvsadm -Ln" output (lab.ParseIpvsadm) into the
// model, independently of package ipvs's reading: this is the stock tool's
// view of the kernel. A netmask is only printed with persistence;
// otherwise it is the default.
func parseIpvsadm(t *testing.T, out string) []ipvs.Entry {
	t.Helper()
	svcs, err := lab.ParseIpvsadm(out)
	if err != nil {
		t.Fatal(err)
	}
	var entries []ipvs.Entry
	for _, svc := range svcs {
		e := ipvs.Entry{Service: parseIpvsadmService(t, svc)}
		for _, d := range svc.Destinations {
			ap, err := netip.ParseAddrPort(d.Address)
			fwd, ok := ipvsadmForwarding[d.Forwarding]
			if err != nil || !ok {
				t.Fatalf("ipvsadm: bad destination %+v", d)
			}
			e.Destinations = append(e.Destinations, ipvs.Destination{Address: ap.Addr(), Port: ap.Port(), Weight: d.Weight, Forwarding: fwd})
		}
		entries = append(entries, e)
	}
	return entries
}

func parseIpvsadmService(t *testing.T, m lab.IpvsadmService) ipvs.Service {
	var s ipvs.Service
	if m.Protocol == "FWM" {
		mark, err := strconv.ParseUint(m.Address, 10, 32)
		if err != nil {
			t.Fatalf("ipvsadm: bad fwmark %q", m.Address)
		}
		s.FWMark, s.IPv6 = uint32(mark), m.IPv6
	} else {
		ap, err := netip.ParseAddrPort(m.Address)
		if err != nil {
			t.Fatalf("ipvsadm: bad address %q", m.Address)
		}
		p, _ := ipvs.ParseProtocol(strings.ToLower(m.Protocol))
		s.Address, s.Port, s.Protocol, s.IPv6 = ap.Addr(), ap.Port(), p, ap.Addr().Is6()
	}
	s.Scheduler = m.Scheduler
	s.PersistenceBits = 32
	if s.IPv6 {
		s.PersistenceBits = 128
	}
	rest := m.Options
	for i := 0; i < len(rest); i++ {
		switch tok := rest[i]; {
		case strings.HasPrefix(tok, "("):
			for _, name := range strings.Split(strings.Trim(tok, "()"), ",") {
				f, err := ipvs.ParseSchedulerFlag(s.Scheduler, name)
				if err != nil {
					t.Fatalf("ipvsadm: scheduler flag %q: %v", name, err)
				}
				s.Flags |= f
			}
		case tok == "persistent" && i+1 < len(rest):
			secs, _ := strconv.Atoi(rest[i+1])
			s.Persistence = time.Duration(secs) * time.Second
			i++
		case tok == "mask" && i+1 < len(rest):
			s.PersistenceBits = maskBits(t, rest[i+1])
			i++
		default:
			t.Fatalf("ipvsadm: unexpected %q in service line %q", tok, m)
		}
	}
	return s
}

func maskBits(t *testing.T, s string) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		t.Fatalf("ipvsadm: bad mask %q", s)
	}
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		v <<= 1
		n++
	}
	return n
}

// opStrings renders ops for comparison.
func opStrings(ops []ipvs.Op) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = op.String()
	}
	return out
}

// mustConverge fails unless the kernel behind k reads back as desired.
func mustConverge(t *testing.T, k ipvs.Kernel, desired []ipvs.Entry) []ipvs.Entry {
	t.Helper()
	got, err := k.Services()
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	ops, err := ipvs.Diff(got, desired)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 0 {
		t.Errorf("kernel differs from the desired table by:\n\t%s", strings.Join(opStrings(ops), "\n\t"))
	}
	return got
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func entry(s ipvs.Service, ds []ipvs.Destination) ipvs.Entry {
	return ipvs.Entry{Service: s, Destinations: ds}
}

func TestMain(m *testing.M) {
	guestns.Main(m, "ipvsguest", "rewrite the kernel's IPVS tables", "go test -tags vm ./test/vm/")
}
