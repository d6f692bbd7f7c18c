package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/vrrp"
)

// checkVRIDs listens for adverts from other routers using our VRIDs:
// two virtual routers with one VRID on a link drop each other's adverts
// (their addresses differ) and fight over the VIPs.
func (d *doctor) checkVRIDs(cfg *conf.Config, listen time.Duration) {
	if len(cfg.Instances) == 0 {
		return
	}
	if listen == 0 {
		d.warn(fmt.Sprintf("lvsd doctor -c %s --listen 5s", cfg.File), "duplicate VRIDs on the wire not checked: listening is off (--listen 0)")
		return
	}
	var on []ListenOn
	var longest time.Duration
	for _, in := range cfg.Instances {
		l := ListenOn{in.Interface, in.IPv6()}
		if !slices.Contains(on, l) {
			if _, ok := d.link(l.Interface); ok {
				on = append(on, l)
			}
		}
		longest = max(longest, in.AdvertInterval)
	}
	if len(on) == 0 {
		return
	}
	heard, err := d.host.Listen(on, listen)
	if err != nil {
		d.warn("", "listening for VRRP adverts: %v", err)
	}
	if listen < 3*longest {
		d.warn(fmt.Sprintf("lvsd doctor -c %s --listen %s", cfg.File, 3*longest), "listened %s, less than 3 advert intervals (%s): a router advertising slowly may have been missed", listen, longest)
	}
	for _, in := range cfg.Instances {
		mine := prefixAddrs(in.VIPs)
		var peers []string
		others := map[uint8]bool{}
		clash := false
		for _, h := range heard {
			if h.Interface != in.Interface || h.Src.Is6() != in.IPv6() || h.TTL != vrrp.TTL || d.isLocal(h.Src) {
				continue
			}
			a := h.Advert
			if a.VRID != in.VRID {
				others[a.VRID] = true
				continue
			}
			if !sameAddrs(a.Addrs, mine) {
				if clash {
					continue // one line per instance is enough
				}
				clash = true
				d.problem("", "%s advertises VRID %d on %s with %s, not the VIPs of %s (%s): two virtual routers share VRID %d on this link and drop each other's adverts; set virtual_router_id of %s to a VRID nobody uses there",
					h.Src, a.VRID, in.Interface, joinAddrs(a.Addrs), in.Name, joinAddrs(mine), a.VRID, in.Name)
				continue
			}
			if a.Version != in.Version {
				d.warn("", "peer %s advertises VRID %d on %s as VRRP %s, %s speaks %s: each drops the other's adverts and both become MASTER; give both the same version",
					h.Src, a.VRID, in.Interface, a.Version, in.Name, in.Version)
			}
			if !slices.Contains(peers, h.Src.String()) {
				peers = append(peers, h.Src.String())
			}
		}
		if clash {
			continue
		}
		what := "heard no other router with it"
		if len(peers) > 0 {
			what = "heard it only from " + strings.Join(peers, ", ") + " with the same VIPs (the peer)"
		}
		if len(others) > 0 {
			var vs []int
			for v := range others {
				vs = append(vs, int(v))
			}
			slices.Sort(vs)
			what += fmt.Sprintf("; other VRIDs in use on %s: %s", in.Interface, strings.Trim(fmt.Sprint(vs), "[]"))
		}
		d.ok("VRID %d of %s on %s: listened %s, %s", in.VRID, in.Name, in.Interface, listen, what)
	}
}

func sameAddrs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x.Unmap()) {
			return false
		}
	}
	return true
}
