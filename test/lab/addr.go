package lab

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// AddAddr puts p on the interface ifname of the host (lo, tunl0, a
// dummy, eth0…) and sets the interface up: a VIP on a real server's lo,
// or an address a test wants on a link the lab already made.
func (h *Host) AddAddr(ifname string, p netip.Prefix) error {
	link, err := h.sp.nl.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("lab: host %s: find %s: %w", h.name, ifname, err)
	}
	if err := h.sp.nl.LinkSetUp(link); err != nil {
		return fmt.Errorf("lab: host %s: set %s up: %w", h.name, ifname, err)
	}
	if err := h.sp.nl.AddrAdd(link, &netlink.Addr{IPNet: ipNet(p)}); err != nil {
		return fmt.Errorf("lab: host %s: add %s to %s: %w", h.name, p, ifname, err)
	}
	return nil
}

// IfAddr is an address on an interface of a host.
type IfAddr struct {
	Prefix    netip.Prefix
	Tentative bool // IPv6 duplicate address detection is still running
}

// Addrs lists the addresses of the interface ifname of the host, IPv4 and
// IPv6.
func (h *Host) Addrs(ifname string) ([]IfAddr, error) {
	link, err := h.sp.nl.LinkByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("lab: host %s: find %s: %w", h.name, ifname, err)
	}
	list, err := h.sp.nl.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("lab: host %s: addresses of %s: %w", h.name, ifname, err)
	}
	var out []IfAddr
	for _, a := range list {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		bits, _ := a.Mask.Size()
		out = append(out, IfAddr{Prefix: netip.PrefixFrom(ip.Unmap(), bits), Tentative: a.Flags&unix.IFA_F_TENTATIVE != 0})
	}
	return out, nil
}

// HasAddr reports whether ip is on the interface ifname of the host.
func (h *Host) HasAddr(ifname string, ip netip.Addr) (bool, error) {
	addrs, err := h.Addrs(ifname)
	for _, a := range addrs {
		if a.Prefix.Addr() == ip {
			return true, nil
		}
	}
	return false, err
}

// Sysctls writes pairs of per-namespace sysctls and values (see Sysctl)
// in order, stopping at the first failure.
func (h *Host) Sysctls(kv ...string) error {
	if len(kv)%2 != 0 {
		return fmt.Errorf("lab: host %s: sysctls %q: not key/value pairs", h.name, kv)
	}
	for i := 0; i < len(kv); i += 2 {
		if err := h.Sysctl(kv[i], kv[i+1]); err != nil {
			return err
		}
	}
	return nil
}
