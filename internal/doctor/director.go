package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
)

// director runs the checks of a director of cfg.
func (d *doctor) director(cfg *conf.Config, listen time.Duration) {
	d.checkIPVS(cfg)
	d.checkForwarding(cfg)
	d.checkInterfaces(cfg)
	d.checkRPFilter(cfg)
	d.checkVIPsHeld(cfg)
	d.checkKeepalived(cfg)
	d.checkFirewall(cfg)
	d.checkLegacyFirewall(cfg)
	d.checkVRIDs(cfg, listen)
}

// checkIPVS: virtual servers and the connection sync daemon are IPVS.
func (d *doctor) checkIPVS(cfg *conf.Config) {
	needs := len(cfg.VirtualServers) > 0 || cfg.ConnectionSync != nil
	if !needs {
		d.ok("IPVS not needed: %s has no virtual servers and no connection_sync", cfg.File)
		return
	}
	what := fmt.Sprintf("%d %s", len(cfg.VirtualServers), plural(len(cfg.VirtualServers), "virtual server", "virtual servers"))
	if cfg.ConnectionSync != nil {
		what += " and connection_sync"
	}
	st := d.host.IPVS()
	switch {
	case st.Loaded:
		d.ok("IPVS is loaded in this kernel (needed for %s)", what)
	case st.Loadable:
		d.problem("modprobe ip_vs && echo ip_vs > /etc/modules-load.d/ip_vs.conf",
			"IPVS is not loaded (%s): lvsd run cannot program the %s", st.Detail, what)
	default:
		d.problem("boot a kernel built with CONFIG_IP_VS=m or =y (Debian: apt-get install linux-image-amd64)",
			"this kernel (%s) has no IPVS: %s; lvsd run refuses to start with %s", st.Kernel, st.Detail, what)
	}
}

// checkForwarding: NAT sends the real servers' replies back through the
// director, which the kernel drops unless it forwards.
func (d *doctor) checkForwarding(cfg *conf.Config) {
	nat := map[bool][]string{} // by IPv6: the virtual servers with NAT
	for _, vs := range cfg.VirtualServers {
		v6 := vs.Service.IPv6 || vs.Service.Address.Is6()
		uses := vs.SorryServer != nil && vs.SorryServer.Forwarding == ipvs.NAT
		for _, rs := range vs.RealServers {
			uses = uses || rs.Destination.Forwarding == ipvs.NAT
		}
		if uses {
			nat[v6] = append(nat[v6], vs.Name)
		}
	}
	if len(nat) == 0 {
		d.ok("IP forwarding not needed: no real server uses NAT")
		return
	}
	for _, v6 := range []bool{false, true} {
		names := nat[v6]
		if len(names) == 0 {
			continue
		}
		key := "net/ipv4/ip_forward"
		if v6 {
			key = "net/ipv6/conf/all/forwarding"
		}
		n, err := d.sysctlInt(key)
		switch {
		case err != nil:
			d.warn("", "%v (needed for NAT in %s)", err, strings.Join(names, ", "))
		case n != 1:
			d.problem(sysctlFix(key, "1"),
				"%s is %d but %s %s NAT: the real servers' replies come back through this director, which drops them unless it forwards",
				sysctlName(key), n, strings.Join(names, ", "), plural(len(names), "uses", "use"))
		default:
			d.ok("%s is 1 (NAT in %s)", sysctlName(key), strings.Join(names, ", "))
		}
	}
}

// checkInterfaces: every interface an instance speaks on exists, is up,
// has carrier and an address to send adverts from.
func (d *doctor) checkInterfaces(cfg *conf.Config) {
	if _, err := d.allLinks(); err != nil {
		d.warn("ip -br addr", "cannot list the interfaces: %v", err)
		return
	}
	for _, in := range cfg.Instances {
		l, ok := d.link(in.Interface)
		if !ok {
			d.problem("ip link show", "interface %s of %s does not exist: lvsd run refuses to start (correct the name in %s)", in.Interface, in.Name, cfg.File)
			continue
		}
		if !l.Up {
			d.problem("ip link set dev "+l.Name+" up", "interface %s of %s is down: %s can neither hear nor send adverts", l.Name, in.Name, in.Name)
			continue
		}
		if !l.Carrier {
			d.problem("", "interface %s of %s is up but has no carrier (cable, switch port or peer down): %s stays in FAULT", l.Name, in.Name, in.Name)
			continue
		}
		src, why := d.advertSource(in, l)
		if !src.IsValid() {
			d.problem("ip addr add ADDRESS/PREFIX dev "+l.Name, "%s: %s", in.Name, why)
			continue
		}
		d.ok("interface %s of %s is up with carrier; adverts go from %s", l.Name, in.Name, src)
	}
	for _, in := range cfg.Instances {
		for _, name := range in.TrackInterfaces {
			l, ok := d.link(name)
			switch {
			case !ok:
				d.problem("ip link show", "tracked interface %s of %s does not exist: lvsd run refuses to start", name, in.Name)
			case !l.Up || !l.Carrier:
				fix := ""
				if !l.Up {
					fix = "ip link set dev " + name + " up"
				}
				d.warn(fix, "tracked interface %s of %s is down: %s would start in FAULT", name, in.Name, in.Name)
			}
		}
	}
	if cs := cfg.ConnectionSync; cs != nil {
		name := cs.Daemon.Interface
		l, ok := d.link(name)
		switch {
		case !ok:
			d.problem("ip link show", "interface %s of connection_sync does not exist: the sync daemon cannot start", name)
		case !l.Up || !l.Carrier:
			d.problem("ip link set dev "+name+" up", "interface %s of connection_sync is down: the backup learns no connections", name)
		default:
			d.ok("interface %s of connection_sync is up", name)
		}
	}
}

// advertSource is the address the daemon would send in's adverts from
// (vrrp.ChooseSource), or why there is none.
func (d *doctor) advertSource(in vrrp.Config, l Link) (netip.Addr, string) {
	var addrs []netip.Addr
	for _, p := range l.Addrs {
		addrs = append(addrs, p.Addr())
	}
	src, err := vrrp.ChooseSource(&in, addrs)
	if err != nil {
		return netip.Addr{}, err.Error()
	}
	return src, ""
}

// checkRPFilter: strict reverse-path filtering (1) drops packets that
// arrive on an interface other than the one the route back leaves by.
// On the VRRP interface that is adverts from unicast peers routed
// elsewhere (both directors become MASTER) and client packets for the
// VIPs from sources the default route sends elsewhere (IPVS never sees
// them, whether it forwards by NAT, DR or TUN).
func (d *doctor) checkRPFilter(cfg *conf.Config) {
	seen := map[string]bool{}
	for _, in := range cfg.Instances {
		if in.IPv6() || seen[in.Interface] {
			continue // IPv6 has no rp_filter sysctl
		}
		seen[in.Interface] = true
		if _, ok := d.link(in.Interface); !ok {
			continue
		}
		c, err := d.confMax("rp_filter", in.Interface)
		if err != nil {
			d.warn("", "%v", err)
			continue
		}
		if c.effective != 1 {
			mode := "off"
			if c.effective == 2 {
				mode = "loose"
			}
			d.ok("%s: adverts and client packets on it are not dropped by source validation", c.explain(mode))
			continue
		}
		fix := rpFilterFix(c)
		bad := false
		for _, peer := range in.UnicastPeers {
			via, err := d.host.RouteTo(peer)
			if err != nil || via == in.Interface {
				continue
			}
			bad = true
			d.problem(fix, "%s and the route back to unicast peer %s of %s leaves by %s: the kernel drops its adverts arriving on %s, so both directors become MASTER",
				c.explain("strict"), peer, in.Name, via, in.Interface)
		}
		if bad {
			continue
		}
		defaults, _ := d.host.DefaultRoutes(false)
		if len(defaults) > 0 && !slices.Contains(defaults, in.Interface) {
			d.warn(fix, "%s and the default route leaves by %s: packets for the VIPs of %s from clients not routed back via %s are dropped before IPVS sees them",
				c.explain("strict"), strings.Join(defaults, ","), in.Name, in.Interface)
			continue
		}
		d.ok("%s: harmless here, the peers and the default route are reached via %s", c.explain("strict"), in.Interface)
	}
}
