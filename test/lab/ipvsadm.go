package lab

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Ipvsadm runs the stock ipvsadm with args in the network namespace at
// path (a /run/netns entry; "" for the caller's) and returns its output. A
// failure fails the test. ipvsadm is the independent view of the kernel's
// IPVS table that lvsd's own reading is held against.
func Ipvsadm(t testing.TB, ns string, args ...string) string {
	t.Helper()
	argv := append([]string{"ipvsadm"}, args...)
	if ns != "" {
		argv = append([]string{"nsenter", "--net=" + ns}, argv...)
	}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// Ipvsadm runs the stock ipvsadm in the host; see the function Ipvsadm.
func (h *Host) Ipvsadm(t testing.TB, args ...string) string {
	t.Helper()
	return Ipvsadm(t, filepath.Join(netnsDir, h.sp.name), args...)
}

// IpvsadmService is a service line of `ipvsadm -Ln` and the destination
// lines under it, as printed: the reading of the stock tool, not lvsd's.
type IpvsadmService struct {
	Protocol     string   // TCP, UDP, SCTP or FWM
	Address      string   // 192.0.2.100:80, [2001:db8::100]:80, or the mark
	IPv6         bool     // an IPv6 fwmark service ("FWM 9 IPv6 …")
	Scheduler    string   // rr, wrr, mh…
	Options      []string // the rest: "(sh-port,sh-fallback)", "persistent", "300", "mask"…
	Destinations []IpvsadmDestination
}

// IpvsadmDestination is a "  -> " line of `ipvsadm -Ln`.
type IpvsadmDestination struct {
	Address    string // 192.0.2.21:80
	Forwarding string // Route, Masq, Tunnel, Local
	Weight     int
	Active     int
	Inactive   int
}

// String is the service line with single spaces: "TCP 192.0.2.100:80 wrr".
func (s IpvsadmService) String() string {
	f := []string{s.Protocol, s.Address}
	if s.IPv6 {
		f = append(f, "IPv6")
	}
	return strings.Join(append(append(f, s.Scheduler), s.Options...), " ")
}

// String is the destination line without counters: "-> 192.0.2.21:80 Route 3".
func (d IpvsadmDestination) String() string {
	return fmt.Sprintf("-> %s %s %d", d.Address, d.Forwarding, d.Weight)
}

var (
	ipvsadmServiceRE = regexp.MustCompile(`^(TCP|UDP|SCTP|FWM)\s+(\S+)(\s+IPv6)?\s+(\S+)(.*)$`)
	ipvsadmDestRE    = regexp.MustCompile(`^\s+->\s+(\S+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$`)
)

// ParseIpvsadm reads the output of `ipvsadm -Ln`; other lines (the
// version, the headings) are skipped.
func ParseIpvsadm(out string) ([]IpvsadmService, error) {
	var svcs []IpvsadmService
	for _, line := range strings.Split(out, "\n") {
		if m := ipvsadmServiceRE.FindStringSubmatch(line); m != nil {
			svcs = append(svcs, IpvsadmService{Protocol: m[1], Address: m[2], IPv6: m[3] != "", Scheduler: m[4], Options: strings.Fields(m[5])})
			continue
		}
		m := ipvsadmDestRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if len(svcs) == 0 {
			return nil, fmt.Errorf("ipvsadm: destination before any service: %q", line)
		}
		d := IpvsadmDestination{Address: m[1], Forwarding: m[2]}
		d.Weight, _ = strconv.Atoi(m[3])
		d.Active, _ = strconv.Atoi(m[4])
		d.Inactive, _ = strconv.Atoi(m[5])
		s := &svcs[len(svcs)-1]
		s.Destinations = append(s.Destinations, d)
	}
	return svcs, nil
}
