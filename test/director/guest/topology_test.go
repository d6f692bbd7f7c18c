//go:build vmguest

package guest

import (
	"net/netip"
	"testing"

	"github.com/lvsd/lvsd/test/lab"
)

// site is a director, its real servers and a client, wired for one
// forwarding method.
type site struct {
	lab      *lab.Lab
	client   *lab.Host
	director *lab.Host
	rs       []*lab.Host
	rsIP     []netip.Addr
	vip      netip.Addr
}

// mustSysctls writes sysctls in h (key, value, key, value…).
func mustSysctls(t *testing.T, h *lab.Host, kv ...string) {
	t.Helper()
	if err := h.Sysctls(kv...); err != nil {
		t.Fatal(err)
	}
}

// ipvsTable is `ipvsadm -Ln` in h reduced to comparable lines: one per
// service ("TCP 192.0.2.100:80 wrr") and one per destination under it
// ("-> 192.0.2.21:80 Route 3").
func ipvsTable(t *testing.T, h *lab.Host) []string {
	t.Helper()
	svcs, err := lab.ParseIpvsadm(h.Ipvsadm(t, "-Ln"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range svcs {
		out = append(out, s.String())
		for _, d := range s.Destinations {
			out = append(out, d.String())
		}
	}
	return out
}

// realServerVIP makes h accept packets for the VIP without answering ARP
// for it: the VIP on dev (lo for DR, tunl0 for TUN) with arp_ignore=1 and
// arp_announce=2, the usual LVS real-server setup.
func realServerVIP(t *testing.T, h *lab.Host, dev string, vip netip.Addr) {
	t.Helper()
	mustSysctls(t, h,
		"net.ipv4.conf.all.arp_ignore", "1", "net.ipv4.conf.all.arp_announce", "2",
		"net.ipv4.conf.eth0.arp_ignore", "1", "net.ipv4.conf.eth0.arp_announce", "2")
	if err := h.AddAddr(dev, netip.PrefixFrom(vip, 32)); err != nil {
		t.Fatal(err)
	}
}

// drSite: client, director and two real servers on one segment,
// 192.0.2.0/24; the real servers hold the VIP on lo.
func drSite(t *testing.T) *site {
	l := lab.New(t)
	lan := l.Network("lan")
	s := &site{lab: l, client: l.Host("client"), director: l.Host("dir"), vip: netip.MustParseAddr("192.0.2.100")}
	s.client.Connect(lan, mustPrefix("192.0.2.50/24"))
	s.director.Connect(lan, mustPrefix("192.0.2.11/24"))
	for i, ip := range []string{"192.0.2.21", "192.0.2.22"} {
		h := l.Host([]string{"rs1", "rs2"}[i])
		h.Connect(lan, netip.PrefixFrom(netip.MustParseAddr(ip), 24))
		realServerVIP(t, h, "lo", s.vip)
		s.rs, s.rsIP = append(s.rs, h), append(s.rsIP, netip.MustParseAddr(ip))
	}
	return s
}

// natSite: the client outside (203.0.113.0/24), the real servers inside
// (198.51.100.0/24) behind the director, which routes and rewrites.
func natSite(t *testing.T) *site {
	l := lab.New(t)
	out, in := l.Network("outside"), l.Network("inside")
	s := &site{lab: l, client: l.Host("client"), director: l.Host("dir"), vip: netip.MustParseAddr("203.0.113.100")}
	s.client.Connect(out, mustPrefix("203.0.113.50/24"))
	s.director.Connect(out, mustPrefix("203.0.113.11/24"))
	s.director.Connect(in, mustPrefix("198.51.100.1/24"))
	mustSysctls(t, s.director, "net.ipv4.ip_forward", "1")
	for i, ip := range []string{"198.51.100.21", "198.51.100.22"} {
		h := l.Host([]string{"rs1", "rs2"}[i])
		h.Connect(in, netip.PrefixFrom(netip.MustParseAddr(ip), 24))
		if err := h.AddRoute(mustPrefix("0.0.0.0/0"), netip.MustParseAddr("198.51.100.1")); err != nil {
			t.Fatal(err)
		}
		s.rs, s.rsIP = append(s.rs, h), append(s.rsIP, netip.MustParseAddr(ip))
	}
	return s
}

// tunSite: client and director on 192.0.2.0/24; the real servers on
// 198.51.100.0/24 behind a router, reached by IP-in-IP, holding the VIP
// on tunl0 and answering the client directly through their router. (Not
// through the director: it owns the VIP, so a reply from the VIP coming
// back into it would be a martian.)
func tunSite(t *testing.T) *site {
	l := lab.New(t)
	lan, far := l.Network("lan"), l.Network("far")
	s := &site{lab: l, client: l.Host("client"), director: l.Host("dir"), vip: netip.MustParseAddr("192.0.2.100")}
	s.client.Connect(lan, mustPrefix("192.0.2.50/24"))
	s.director.Connect(lan, mustPrefix("192.0.2.11/24"))
	router := l.Host("router")
	router.Connect(lan, mustPrefix("192.0.2.1/24"))
	router.Connect(far, mustPrefix("198.51.100.254/24"))
	mustSysctls(t, router, "net.ipv4.ip_forward", "1")
	for _, h := range []*lab.Host{s.client, s.director} {
		if err := h.AddRoute(mustPrefix("198.51.100.0/24"), netip.MustParseAddr("192.0.2.1")); err != nil {
			t.Fatal(err)
		}
	}
	for i, ip := range []string{"198.51.100.21", "198.51.100.22"} {
		h := l.Host([]string{"rs1", "rs2"}[i])
		h.Connect(far, netip.PrefixFrom(netip.MustParseAddr(ip), 24))
		if err := h.AddRoute(mustPrefix("0.0.0.0/0"), netip.MustParseAddr("198.51.100.254")); err != nil {
			t.Fatal(err)
		}
		realServerVIP(t, h, "tunl0", s.vip)
		// Decapsulated packets arrive on tunl0 from an address routed via
		// eth0: strict reverse-path filtering would drop them.
		mustSysctls(t, h, "net.ipv4.conf.all.rp_filter", "0", "net.ipv4.conf.tunl0.rp_filter", "0", "net.ipv4.conf.eth0.rp_filter", "0")
		s.rs, s.rsIP = append(s.rs, h), append(s.rsIP, netip.MustParseAddr(ip))
	}
	return s
}
