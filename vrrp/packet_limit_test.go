package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

// AdvertAddrLimit: the 8-bit count caps every advert at 255 addresses;
// an MTU caps it lower where 255 would not fit in one packet.
func TestAdvertAddrLimit(t *testing.T) {
	for _, c := range []struct {
		v    Version
		v6   bool
		mtu  int
		want int
	}{
		{V3, false, 1500, 255},       // (1500-20-8)/4 = 368
		{V3, false, 0, 255},          // unknown MTU: the IP limit
		{V3, false, 1000, 243},       // (1000-20-8)/4
		{V2, false, 1000, 241},       // (1000-20-8-8)/4
		{V3, true, 1500, 90},         // (1500-40-8)/16
		{V3, true, 1280, 77},         // IPv6 minimum MTU: (1280-40-8)/16
		{V3, true, MaxIPPacket, 255}, // (65535-40-8)/16 = 4092
		{V3, true, 1 << 20, 255},     // above the IP limit: the IP limit
		{V3, true, 40, 0},            // no room at all
	} {
		if got := AdvertAddrLimit(c.v, c.v6, c.mtu); got != c.want {
			t.Errorf("AdvertAddrLimit(%s, v6 %t, %d) = %d, want %d", c.v, c.v6, c.mtu, got, c.want)
		}
	}
}

// manyAddrs is n distinct addresses from base upwards.
func manyAddrs(base netip.Addr, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = base
		base = base.Next()
	}
	return out
}

// An instance with more VIPs than an advert lists still advertises: the
// advert lists the first that fit (255, or fewer on the MTU), as
// keepalived does; before, Marshal failed and no advert went out.
func TestMarshalListsFirstAddrsThatFit(t *testing.T) {
	for _, c := range []struct {
		name     string
		v        Version
		src, dst netip.Addr
		addrs    []netip.Addr
		mtu      int
		want     int
	}{
		{"v3 ipv4 300", V3, srcA, GroupIPv4, manyAddrs(netip.MustParseAddr("10.0.0.1"), 300), MaxIPPacket, 255},
		{"v2 ipv4 300", V2, srcA, GroupIPv4, manyAddrs(netip.MustParseAddr("10.0.0.1"), 300), 1500, 255},
		{"v3 ipv4 255 exactly", V3, srcA, GroupIPv4, manyAddrs(netip.MustParseAddr("10.0.0.1"), 255), 1500, 255},
		{"v3 ipv6 300 on 1500", V3, srcA6, GroupIPv6, manyAddrs(netip.MustParseAddr("2001:db8::1"), 300), 1500, 90},
		{"v3 ipv6 300 unbounded", V3, srcA6, GroupIPv6, manyAddrs(netip.MustParseAddr("2001:db8::1"), 300), 0, 255},
	} {
		a := Advert{Version: c.v, VRID: 51, Priority: 100, Interval: time.Second, Addrs: c.addrs}
		b, err := a.MarshalFit(c.src, c.dst, c.mtu)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		iph := ipv4HeaderLen
		if c.src.Is6() {
			iph = ipv6HeaderLen
		}
		if mtu := c.mtu; mtu > 0 && iph+len(b) > mtu {
			t.Errorf("%s: %d-byte packet on MTU %d", c.name, iph+len(b), mtu)
		}
		got, err := ParseAdvert(b, c.src, c.dst)
		if err != nil {
			t.Errorf("%s: the advert does not parse: %v", c.name, err)
			continue
		}
		if len(got.Addrs) != c.want {
			t.Errorf("%s: %d addresses listed, want %d", c.name, len(got.Addrs), c.want)
		}
		for i, ip := range got.Addrs {
			if ip != c.addrs[i] {
				t.Errorf("%s: address %d is %s, want %s (the first ones, in order)", c.name, i, ip, c.addrs[i])
				break
			}
		}
		if len(a.Addrs) != len(c.addrs) {
			t.Errorf("%s: Marshal changed the advert's list", c.name)
		}
	}
}
