package doctor

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/lvsd/lvsd/conf"
)

// checkVIPsHeld: lvsd adds the VIPs when it becomes MASTER and removes
// them otherwise. A VIP on this host that lvsd does not hold as MASTER
// is held by something else (a static address, keepalived), and the
// host answers ARP for it even while the peer is MASTER.
func (d *doctor) checkVIPsHeld(cfg *conf.Config) {
	if len(cfg.Instances) == 0 {
		return
	}
	if _, err := d.allLinks(); err != nil {
		return // reported by checkInterfaces
	}
	sock := cfg.Global.ControlSocket
	states, err := d.daemon(sock) // nil when no lvsd answers
	unknown := err != nil && errors.Is(err, os.ErrPermission)
	running := err == nil
	for _, in := range cfg.Instances {
		vips := append(slices.Clone(in.VIPs), in.VIPsExcluded...)
		clean := true
		for _, v := range vips {
			for _, h := range d.holders(v.Addr().Unmap()) {
				state := states[in.Name]
				if running && state == "MASTER" && h.link.Name == in.Interface {
					continue
				}
				clean = false
				var why string
				switch {
				case h.link.Name != in.Interface:
					why = fmt.Sprintf("not on %s where lvsd puts it", in.Interface)
				case unknown:
					why = fmt.Sprintf("lvsd at %s cannot be asked (%v), so it may not be lvsd's", sock, err)
				case !running:
					why = "lvsd is not running"
				default:
					why = fmt.Sprintf("lvsd has %s in %s, not MASTER", in.Name, strings.ToUpper(state))
				}
				msg := fmt.Sprintf("VIP %s of %s is on %s but %s: something else holds it (a static address in the network configuration, keepalived?) and this host answers ARP for it while the peer is MASTER; remove it from that configuration too",
					v.Addr(), in.Name, h.link.Name, why)
				fix := "ip addr del " + h.prefix.String() + " dev " + h.link.Name
				if unknown {
					d.warn(fix, "%s", msg)
				} else {
					d.problem(fix, "%s", msg)
				}
			}
		}
		if !clean {
			continue
		}
		switch {
		case running && states[in.Name] == "MASTER":
			d.ok("VIPs of %s (%s) are held only by the running lvsd, which is MASTER", in.Name, joinAddrs(prefixAddrs(vips)))
		case running:
			d.ok("VIPs of %s (%s) are not on this host; the running lvsd has it in %s", in.Name, joinAddrs(prefixAddrs(vips)), cmp.Or(states[in.Name], "no state"))
		default:
			d.ok("VIPs of %s (%s) are not on this host outside lvsd", in.Name, joinAddrs(prefixAddrs(vips)))
		}
	}
}

// checkKeepalived: lvsd replaces keepalived; both speaking VRRP for the
// same VRIDs fight over the VIPs.
func (d *doctor) checkKeepalived(cfg *conf.Config) {
	if len(cfg.Instances) == 0 {
		return
	}
	pids, err := d.host.Processes("keepalived")
	if err != nil || len(pids) == 0 {
		return
	}
	ps := make([]string, len(pids))
	for i, p := range pids {
		ps[i] = strconv.Itoa(p)
	}
	d.warn("systemctl disable --now keepalived", "keepalived runs in this network namespace (pid %s): with lvsd for the same VRIDs, two VRRP speakers fight over the VIPs", strings.Join(ps, ", "))
}
