package conf

import (
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Addresses reads the interface's addresses over rtnetlink, in the order
// the kernel keeps them: for IPv4, primaries in the order they were added,
// then secondaries.
func (ThisHost) Addresses(name string) ([]IfaceAddr, error) {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return nil, err
	}
	list, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	var out []IfaceAddr
	for _, a := range list {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		ones, _ := a.Mask.Size()
		out = append(out, IfaceAddr{
			Prefix: netip.PrefixFrom(ip, ones),
			// For IPv6 the same bit means a temporary (privacy) address.
			Secondary: ip.Is4() && a.Flags&unix.IFA_F_SECONDARY != 0,
			NoDAD:     ip.Is6() && a.Flags&unix.IFA_F_NODAD != 0,
		})
	}
	return out, nil
}
