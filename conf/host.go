package conf

import (
	"net/netip"
)

// hostChecks reports what the file asks of this machine. Interfaces and
// programs it lacks are warnings: `check` validates the file, and `run`
// refuses to start on them. A virtual IP that is this host's own address
// is an error everywhere: holding it as a VIP would delete it.
func (d *decoder) hostChecks(host Host, instances []*instanceSrc) {
	for _, in := range d.interfaces {
		if !host.HasInterface(in.value) {
			d.hostWarnf(in.rng, "No interface "+quote(in.value)+" on this host", "lvsd run would refuse to start; check the name with `ip link`")
		}
	}
	for _, p := range d.programs {
		if err := host.Executable(p.value); err != nil {
			d.hostWarnf(p.rng, "Cannot run "+quote(p.value)+" on this host", "%s", err)
		}
	}
	for _, in := range instances {
		d.vipsNotOwn(host, in)
	}
}

// vipsNotOwn refuses a virtual IP that is one of the host's own addresses
// on the instance's interface: as BACKUP, lvsd deletes its VIPs, and with
// an IPv4 primary the kernel deletes the addresses of its subnet too.
func (d *decoder) vipsNotOwn(host Host, in *instanceSrc) {
	c := in.cfg
	ah, ok := host.(AddressHost)
	if !ok || c.Interface == "" || len(c.VIPs) == 0 || !host.HasInterface(c.Interface) {
		return
	}
	addrs, err := ah.Addresses(c.Interface)
	if err != nil {
		return // the interface went away meanwhile: run says so
	}
	exprs, _ := in.a.list("virtual_ips")
	for i, vip := range c.VIPs {
		own, ok := ownAddress(addrs, vip.Addr())
		if !ok || i >= len(exprs) {
			continue
		}
		with := ""
		if vip.Addr().Is4() {
			with = " and the kernel the other addresses of its subnet with it"
		}
		d.hostErrorf(exprs[i].Range(), "Virtual IP "+vip.Addr().String()+" is this host's own address",
			"%s holds %s as its own; as BACKUP lvsd would delete it%s, cutting this host off. A virtual IP is an address no director has as its own: choose a free one in %s",
			c.Interface, own.Prefix, with, own.Prefix.Masked())
	}
}

// ownAddress finds vip among the host's own addresses, told apart from
// the VIPs a running lvsd holds (a reload on a master must not refuse its
// own VIPs):
//   - IPv4: vip is the interface's primary address, the first that is not
//     secondary: the one adverts go out from (RFC 5798 §5.1.1.1) and
//     source_ip defaults to. lvsd adds its VIPs after it, so on a master a
//     VIP in its subnet is a secondary and any other (a /32, another
//     subnet) a later primary; neither is ever first.
//   - IPv6: vip is on the interface with duplicate address detection done,
//     as every address the host configures (SLAAC, DHCPv6, static) has;
//     lvsd adds its IPv6 VIPs with NODAD.
//
// What it cannot see: a second address of the host's own (a secondary, or
// the primary of another subnet) reused as a VIP looks like a VIP.
func ownAddress(addrs []IfaceAddr, vip netip.Addr) (IfaceAddr, bool) {
	for _, a := range addrs {
		ip := a.Prefix.Addr()
		switch {
		case vip.Is4() && ip.Is4() && !a.Secondary:
			return a, ip == vip // the first primary only
		case vip.Is6() && ip == vip:
			return a, !a.NoDAD
		}
	}
	return IfaceAddr{}, false
}
