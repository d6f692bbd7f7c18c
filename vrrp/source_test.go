package vrrp

import (
	"errors"
	"net/netip"
	"testing"
)

func TestChooseSource(t *testing.T) {
	a := netip.MustParseAddr
	p := netip.MustParsePrefix
	v4 := Config{Interface: "eth0", VIPs: []netip.Prefix{p("192.0.2.100/24")}, VIPsExcluded: []netip.Prefix{p("192.0.2.101/24")}}
	v6 := Config{Interface: "eth0", VIPs: []netip.Prefix{p("2001:db8::100/64")}}
	withSource := v4
	withSource.SourceIP = a("192.0.2.50")
	for _, tc := range []struct {
		name  string
		cfg   Config
		addrs []netip.Addr
		want  netip.Addr // invalid: ErrNoSource
	}{
		{"first non-VIP address", v4, []netip.Addr{a("192.0.2.100"), a("192.0.2.101"), a("192.0.2.11"), a("192.0.2.12")}, a("192.0.2.11")},
		{"link-local IPv4 is skipped", v4, []netip.Addr{a("169.254.1.1"), a("192.0.2.11")}, a("192.0.2.11")},
		{"mapped addresses unmapped", v4, []netip.Addr{a("::ffff:192.0.2.11")}, a("192.0.2.11")},
		{"only VIPs", v4, []netip.Addr{a("192.0.2.100")}, netip.Addr{}},
		{"source_ip wins", withSource, nil, a("192.0.2.50")},
		{"IPv6 takes the link-local", v6, []netip.Addr{a("2001:db8::11"), a("fe80::1")}, a("fe80::1")},
		{"IPv6 without link-local", v6, []netip.Addr{a("2001:db8::11"), a("192.0.2.11")}, netip.Addr{}},
	} {
		got, err := ChooseSource(&tc.cfg, tc.addrs)
		if !tc.want.IsValid() {
			if !errors.Is(err, ErrNoSource) {
				t.Errorf("%s: got %v, %v; want ErrNoSource", tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}
