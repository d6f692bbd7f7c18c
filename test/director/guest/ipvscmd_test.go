//go:build vmguest

package guest

import (
	"context"
	"github.com/lvsd/lvsd/test/lvsdtest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestIPVSCommand: `lvsd ipvs` prints what ipvsadm prints, to the byte,
// for a table with persistence, scheduler flags, UDP, NAT, DR, fwmark
// and IPv6, in every view.
func TestIPVSCommand(t *testing.T) {
	s := drSite(t)
	serveHTTP(t, s.rs[0], netip.MustParseAddrPort("0.0.0.0:80"), "rs1")
	serveHTTP(t, s.rs[1], netip.MustParseAddrPort("0.0.0.0:80"), "rs2")
	lvsdtest.Start(t, s.director, `
global {
  ipvs_timeouts {
    tcp     = "901s"
    tcp_fin = "121s"
    udp     = "301s"
  }
}
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 255
  virtual_ips       = ["192.0.2.100/24"]
}
virtual_server "web" {
  address    = "192.0.2.100:80"
  scheduler  = "wrr"
  forwarding = "dr"
  real_server "192.0.2.22:80" {
    weight = 2
  }
  real_server "192.0.2.21:80" {
    weight = 5
  }
}
virtual_server "tls" {
  address             = "192.0.2.100:443"
  scheduler           = "sh"
  scheduler_flags     = ["sh-port", "sh-fallback"]
  persistence         = "300s"
  persistence_netmask = "255.255.255.0"
  forwarding          = "dr"
  real_server "192.0.2.21:443" {}
}
virtual_server "dns" {
  address    = "192.0.2.100:53"
  protocol   = "udp"
  scheduler  = "rr"
  forwarding = "nat"
  real_server "192.0.2.21:5353" {}
}
virtual_server "marked" {
  fwmark     = 9
  scheduler  = "lc"
  forwarding = "dr"
  real_server "192.0.2.22" {}
}
virtual_server "six" {
  address     = "[2001:db8::100]:80"
  scheduler   = "mh"
  persistence = "60s"
  persistence_netmask = "64"
  forwarding  = "tun"
  real_server "[2001:db8::21]:80" {}
}
`)
	lvsdtest.WaitFor(t, 10*time.Second, "the table", func() bool { return len(ipvsTable(t, s.director)) == 11 })
	lvsd := func(args ...string) string {
		return run(t, s, lvsdtest.MustBinary(t), append([]string{"ipvs"}, args...)...)
	}
	for _, c := range []struct {
		lvsd, ipvsadm []string
	}{
		{nil, []string{"-Ln"}},
		{[]string{"--stats"}, []string{"-Ln", "--stats"}},
		{[]string{"--rate"}, []string{"-Ln", "--rate"}},
		{[]string{"--timeout"}, []string{"-L", "--timeout"}},
	} {
		got, want := lvsd(c.lvsd...), s.director.Ipvsadm(t, c.ipvsadm...)
		if got != want {
			t.Errorf("lvsd ipvs %v differs from ipvsadm %v:\n--- lvsd\n%s--- ipvsadm\n%s", c.lvsd, c.ipvsadm, got, want)
		}
	}

	// A connection in the table; expiry counts down between the two reads.
	st := openStream(t, s.client, netip.MustParseAddrPort("192.0.2.100:80"))
	lvsdtest.WaitFor(t, 3*time.Second, "the stream flows", func() bool { n, _, _, _ := st.snapshot(); return n > 2 })
	expiry := regexp.MustCompile(`\d\d:\d\d`)
	got := expiry.ReplaceAllString(lvsd("--connections"), "MM:SS")
	want := expiry.ReplaceAllString(s.director.Ipvsadm(t, "-Lnc"), "MM:SS")
	if got != want || !strings.Contains(got, "ESTABLISHED") {
		t.Errorf("lvsd ipvs --connections differs from ipvsadm -Lnc:\n--- lvsd\n%s--- ipvsadm\n%s", got, want)
	}
	t.Logf("lvsd ipvs:\n%s", lvsd())
}

// run runs a program in the director and returns its output.
func run(t *testing.T, s *site, name string, args ...string) string {
	t.Helper()
	out, err := combined(s.director, s.director.Command(context.Background(), name, args...))
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}
