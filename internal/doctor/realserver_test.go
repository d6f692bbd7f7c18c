package doctor

import (
	"net/netip"
	"testing"
)

func docRSReport(t *testing.T, host *fakeHost, vips ...string) []Finding {
	var as []netip.Addr
	for _, v := range vips {
		as = append(as, docAddr(v))
	}
	return docReport(t, host, func(d *doctor) { d.realServer(as) })
}

func TestDoctorRealServerDR(t *testing.T) {
	fs := docRSReport(t, docGoodRealServer(), "192.0.2.100")
	docWantNo(t, fs, Problem)
	docWantNo(t, fs, Warning)
	docWant(t, fs, OK, "VIP 192.0.2.100 is on lo as 192.0.2.100/32 (DR)")
	docWant(t, fs, OK, "arp_ignore is 1 or 2 on every interface (eth0=1)")
	docWant(t, fs, OK, "arp_announce is 2 on eth0")
}

func TestDoctorRealServerARP(t *testing.T) {
	cases := []struct {
		name string
		set  map[string]string
		sev  Severity
		text []string
	}{
		{"arp_ignore 0", map[string]string{"net.ipv4.conf.all.arp_ignore": "0"},
			Problem, []string{"arp_ignore on eth0 is 0 (the larger of all=0 and eth0=0), so eth0 answers ARP for every address of this host, the VIPs (192.0.2.100) included", "fix: sysctl -w net.ipv4.conf.all.arp_ignore=1"}},
		{"arp_ignore only on lo", map[string]string{"net.ipv4.conf.all.arp_ignore": "0", "net.ipv4.conf.lo.arp_ignore": "1"},
			Problem, []string{"arp_ignore on eth0 is 0"}},
		{"arp_ignore on the interface", map[string]string{"net.ipv4.conf.all.arp_ignore": "0", "net.ipv4.conf.eth0.arp_ignore": "2"},
			OK, []string{"arp_ignore is 1 or 2 on every interface (eth0=2)"}},
		{"arp_ignore 3 on the interface", map[string]string{"net.ipv4.conf.eth0.arp_ignore": "3"},
			Problem, []string{"arp_ignore on eth0 is 3", "fix: sysctl -w net.ipv4.conf.eth0.arp_ignore=1"}},
		{"arp_announce 0", map[string]string{"net.ipv4.conf.all.arp_announce": "0"},
			Problem, []string{"arp_announce on eth0 is 0", "fix: sysctl -w net.ipv4.conf.all.arp_announce=2"}},
		{"arp_announce on the interface", map[string]string{"net.ipv4.conf.all.arp_announce": "1", "net.ipv4.conf.eth0.arp_announce": "2"},
			OK, []string{"arp_announce is 2 on eth0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host := docGoodRealServer()
			for k, v := range c.set {
				host.sysctl[k] = v
			}
			fs := docRSReport(t, host, "192.0.2.100")
			docWant(t, fs, c.sev, c.text...)
			if c.sev == OK {
				docWantNo(t, fs, Problem)
			}
		})
	}
}

func TestDoctorRealServerPlacement(t *testing.T) {
	move := func(h *fakeHost, from, to string, p netip.Prefix) {
		h.setLink(from, func(l *Link) {
			for i, a := range l.Addrs {
				if a.Addr() == p.Addr() {
					l.Addrs = append(l.Addrs[:i:i], l.Addrs[i+1:]...)
					break
				}
			}
		})
		if to != "" {
			h.setLink(to, func(l *Link) { l.Addrs = append(l.Addrs, p) })
		}
	}
	cases := []struct {
		name string
		mod  func(*fakeHost)
		sev  Severity
		text []string
	}{
		{"on eth0", func(h *fakeHost) { move(h, "lo", "eth0", docPrefix("192.0.2.100/24")) },
			Problem, []string{"VIP 192.0.2.100 is on eth0, a real interface: this real server answers ARP for the VIP there", "fix: ip addr del 192.0.2.100/24 dev eth0 && ip addr add 192.0.2.100/32 dev lo"}},
		{"on lo and eth0", func(h *fakeHost) {
			h.setLink("eth0", func(l *Link) { l.Addrs = append(l.Addrs, docPrefix("192.0.2.100/24")) })
		},
			Problem, []string{"is on eth0, a real interface", "fix: ip addr del 192.0.2.100/24 dev eth0"}},
		{"absent", func(h *fakeHost) { move(h, "lo", "", docPrefix("192.0.2.100/32")) },
			Problem, []string{"VIP 192.0.2.100 is not on this host", "fix: ip addr add 192.0.2.100/32 dev lo"}},
		{"lo /24", func(h *fakeHost) {
			move(h, "lo", "lo", docPrefix("192.0.2.100/32"))
			move(h, "lo", "lo", docPrefix("192.0.2.100/24"))
		},
			Problem, []string{"is on lo as 192.0.2.100/24: that makes all of 192.0.2.0/24 local", "fix: ip addr del 192.0.2.100/24 dev lo && ip addr add 192.0.2.100/32 dev lo"}},
		{"dummy", func(h *fakeHost) {
			move(h, "lo", "", docPrefix("192.0.2.100/32"))
			h.setLink("dummy0", func(l *Link) {
				l.Kind, l.NoARP, l.Addrs = "dummy", true, []netip.Prefix{docPrefix("192.0.2.100/32")}
			})
		}, OK, []string{"VIP 192.0.2.100 is on dummy0 as 192.0.2.100/32 (DR)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host := docGoodRealServer()
			c.mod(host)
			fs := docRSReport(t, host, "192.0.2.100")
			docWant(t, fs, c.sev, c.text...)
		})
	}
}

func TestDoctorRealServerTUN(t *testing.T) {
	tun := func(rpAll, rpTun string) *fakeHost {
		h := docGoodRealServer()
		h.links[0].Addrs = h.links[0].Addrs[:1]
		h.setLink("tunl0", func(l *Link) {
			l.Kind, l.NoARP, l.Addrs = "ipip", true, []netip.Prefix{docPrefix("192.0.2.100/32")}
		})
		h.sysctl["net.ipv4.conf.all.rp_filter"] = rpAll
		h.sysctl["net.ipv4.conf.tunl0.rp_filter"] = rpTun
		return h
	}
	fs := docRSReport(t, tun("2", "0"), "192.0.2.100")
	docWantNo(t, fs, Problem)
	docWant(t, fs, OK, "VIP 192.0.2.100 is on tunl0 as 192.0.2.100/32 (TUN)")
	docWant(t, fs, OK, "rp_filter on tunl0 is 2 (the larger of all=2 and tunl0=0): decapsulated packets")

	fs = docRSReport(t, tun("1", "0"), "192.0.2.100")
	docWant(t, fs, Problem, "rp_filter on tunl0 is 1 (strict: the larger of all=1 and tunl0=0)", "fix: sysctl -w net.ipv4.conf.all.rp_filter=2")

	fs = docRSReport(t, tun("0", "1"), "192.0.2.100")
	docWant(t, fs, Problem, "fix: sysctl -w net.ipv4.conf.tunl0.rp_filter=2")

	h := tun("0", "0")
	h.setLink("tunl0", func(l *Link) { l.Up = false })
	fs = docRSReport(t, h, "192.0.2.100")
	docWant(t, fs, Problem, "is on tunl0, which is down", "fix: ip link set dev tunl0 up")
}

func TestDoctorRealServerIPv6(t *testing.T) {
	h := docGoodRealServer()
	h.setLink("lo", func(l *Link) { l.Addrs = append(l.Addrs, docPrefix("2001:db8::100/128")) })
	fs := docRSReport(t, h, "2001:db8::100")
	docWantNo(t, fs, Problem)
	docWant(t, fs, OK, "VIP 2001:db8::100 is on lo as 2001:db8::100/128 (DR)")
	docWant(t, fs, OK, "IPv6 VIPs only")
}
