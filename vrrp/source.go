package vrrp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// ErrNoSource means an interface has no address an instance can send its
// adverts from.
var ErrNoSource = errors.New("no address to send adverts from")

// ChooseSource is the address an instance speaks from, given the
// addresses of its interface in the kernel's order: source_ip when set;
// otherwise for IPv4 the first address that is not one of its VIPs
// (held or excluded), for IPv6 the link-local one (RFC 5798 §5.1.2.1).
// It is pure, so the daemon and `lvsd doctor` choose alike.
func ChooseSource(c *Config, ifAddrs []netip.Addr) (netip.Addr, error) {
	if c.SourceIP.IsValid() {
		return c.SourceIP, nil
	}
	v6 := c.IPv6()
	var vips []netip.Addr
	for _, p := range append(slices.Clone(c.VIPs), c.VIPsExcluded...) {
		vips = append(vips, p.Addr())
	}
	for _, ip := range ifAddrs {
		ip = ip.Unmap()
		if ip.Is6() != v6 || v6 != ip.IsLinkLocalUnicast() || slices.Contains(vips, ip) {
			continue
		}
		return ip, nil
	}
	if v6 {
		return netip.Addr{}, fmt.Errorf("interface %s: %w: it has no link-local IPv6 address (is IPv6 disabled on it?)", c.Interface, ErrNoSource)
	}
	return netip.Addr{}, fmt.Errorf("interface %s: %w: it has no IPv4 address other than the VIPs; add one or set source_ip", c.Interface, ErrNoSource)
}
