package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// realServer checks this host as a real server for the VIPs: a DR real
// server holds the VIP on lo, a TUN one on its tunnel device, both as
// /32, and neither answers ARP for it.
func (d *doctor) realServer(vips []netip.Addr) {
	if _, err := d.allLinks(); err != nil {
		d.problem("ip -br addr", "cannot list the interfaces: %v", err)
		return
	}
	var v4 []netip.Addr
	var tunnels []string
	for _, vip := range vips {
		if vip.Is4() {
			v4 = append(v4, vip)
		}
		var local, tun, other []held
		for _, h := range d.holders(vip) {
			switch {
			case h.link.Loopback || h.link.Kind == "dummy":
				local = append(local, h)
			case slices.Contains(tunnelKinds, h.link.Kind):
				tun = append(tun, h)
			default:
				other = append(other, h)
			}
		}
		host := netip.PrefixFrom(vip, vip.BitLen())
		if len(local)+len(tun)+len(other) == 0 {
			d.problem("ip addr add "+host.String()+" dev lo", "VIP %s is not on this host: a DR real server needs it on lo (TUN: on tunl0) to accept the packets the director sends it", vip)
		}
		for i, h := range append(local, tun...) {
			mode := "DR"
			if i >= len(local) {
				mode = "TUN"
				tunnels = append(tunnels, h.link.Name)
			}
			if h.prefix.Bits() != vip.BitLen() {
				d.problem(fmt.Sprintf("ip addr del %s dev %s && ip addr add %s dev %s", h.prefix, h.link.Name, host, h.link.Name),
					"VIP %s is on %s as %s: that makes all of %s local to this host, which can then no longer reach the director, its gateway or clients in it",
					vip, h.link.Name, h.prefix, h.prefix.Masked())
				continue
			}
			if !h.link.Up {
				d.problem("ip link set dev "+h.link.Name+" up", "VIP %s is on %s, which is down: packets for it are not accepted", vip, h.link.Name)
				continue
			}
			d.ok("VIP %s is on %s as %s (%s)", vip, h.link.Name, h.prefix, mode)
		}
		for _, h := range other {
			fix := "ip addr del " + h.prefix.String() + " dev " + h.link.Name
			if len(local)+len(tun) == 0 {
				fix += " && ip addr add " + host.String() + " dev lo"
			}
			d.problem(fix, "VIP %s is on %s, a real interface: this real server answers ARP for the VIP there and takes its traffic from the director; it belongs on lo (DR) or the tunnel (TUN) as %s",
				vip, h.link.Name, host)
		}
	}
	if len(v4) > 0 {
		d.checkARP(v4)
	} else {
		d.ok("IPv6 VIPs only: neighbour discovery answers only for addresses of the receiving interface, no ARP settings needed")
	}
	slices.Sort(tunnels)
	for _, t := range slices.Compact(tunnels) {
		c, err := d.confMax("rp_filter", t)
		if err != nil {
			d.warn("", "%v", err)
			continue
		}
		if c.effective == 1 {
			d.problem(rpFilterFix(c), "%s: packets decapsulated on %s come from clients the route back does not reach via %s, so the kernel drops them (want 0 or 2)", c.explain("strict"), t, t)
			continue
		}
		d.ok("%s: decapsulated packets from clients are accepted", c.explain(""))
	}
}

// checkARP: ARP requests for a VIP held on lo arrive on the real
// interfaces; arp_ignore (the larger of all and the receiving interface)
// must be 1 or 2 so that they answer only for their own addresses, and
// arp_announce 2 so that their own requests never carry the VIP as
// source. lo's values do not matter: ARP never arrives on lo.
func (d *doctor) checkARP(vips []netip.Addr) {
	links, _ := d.allLinks()
	var ifaces []string
	for _, l := range links {
		if l.Loopback || l.NoARP || slices.Contains(tunnelKinds, l.Kind) {
			continue
		}
		ifaces = append(ifaces, l.Name)
	}
	if len(ifaces) == 0 {
		d.ok("no interface here answers ARP")
		return
	}
	which := joinAddrs(vips)

	var bad []ifaceConf
	var good []string
	fixAll := false
	var fix []string
	for _, name := range ifaces {
		c, err := d.confMax("arp_ignore", name)
		if err != nil {
			d.warn("", "%v", err)
			continue
		}
		if c.effective == 1 || c.effective == 2 {
			good = append(good, fmt.Sprintf("%s=%d", name, c.effective))
			continue
		}
		bad = append(bad, c)
		if c.all != 1 && c.all != 2 {
			fixAll = true
		}
		if c.dev > 2 {
			fix = append(fix, confKey("ipv4", name, "arp_ignore"), "1")
		}
	}
	if fixAll {
		fix = append([]string{confKey("ipv4", "all", "arp_ignore"), "1"}, fix...)
	}
	for _, c := range bad {
		why := fmt.Sprintf("answers ARP for every address of this host, the VIPs (%s) included, and takes their traffic from the director", which)
		if c.effective == 8 {
			why = "answers no ARP at all, not even for its own address"
		}
		d.problem(sysctlFix(fix...), "%s, so %s %s (want 1: answer only for addresses on %s)",
			c.explain(""), c.iface, why, c.iface)
	}
	if len(bad) == 0 && len(good) > 0 {
		d.ok("arp_ignore is 1 or 2 on every interface (%s): each answers ARP only for its own addresses, not for %s", strings.Join(good, " "), which)
	}

	var annBad []ifaceConf
	var annGood []string
	for _, name := range ifaces {
		c, err := d.confMax("arp_announce", name)
		if err != nil {
			d.warn("", "%v", err)
			continue
		}
		if c.effective != 2 {
			annBad = append(annBad, c)
		} else {
			annGood = append(annGood, name)
		}
	}
	for _, c := range annBad {
		d.problem(sysctlFix(confKey("ipv4", "all", "arp_announce"), "2"),
			"%s, so ARP requests from %s may carry a VIP (%s) as their source and teach the neighbours this host's MAC for it (want 2: always the interface's own address)",
			c.explain(""), c.iface, which)
	}
	if len(annBad) == 0 && len(annGood) > 0 {
		d.ok("arp_announce is 2 on %s: this host never announces the VIPs", strings.Join(annGood, ", "))
	}
}
