package lab

import (
	"fmt"
	"os"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// bridgeName is the switch's bridge inside its own namespace.
const bridgeName = "br0"

// Network is one Ethernet segment: a Linux bridge alone in a "switch"
// namespace, so the root namespace never sees the lab's interfaces.
type Network struct {
	lab    *Lab
	name   string
	sp     *space
	bridge int // ifindex of br0 in the switch namespace
	ports  int // ports created so far: the next is p<ports>
}

// Network makes a segment. The bridge behaves like a dumb switch: no STP
// (ports forward as soon as they are up), no multicast snooping (VRRP and
// IPVS sync multicast are flooded), and the switch namespace has IPv6
// disabled so it adds no packets of its own to what observers capture.
func (l *Lab) Network(name string) *Network {
	l.t.Helper()
	sp := l.newSpace(kindNetwork, name)
	for _, key := range []string{"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"} {
		err := inNetns(sp.ns, func() error { return os.WriteFile("/proc/sys/"+key, []byte("1"), 0) })
		if err != nil {
			l.t.Fatalf("lab: network %s: sysctl %s: %v", name, key, err)
		}
	}
	off := false
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: bridgeName}, MulticastSnooping: &off}
	if err := sp.nl.LinkAdd(br); err != nil {
		l.t.Fatalf("lab: network %s: create bridge: %v", name, err)
	}
	if err := sp.nl.LinkSetUp(br); err != nil {
		l.t.Fatalf("lab: network %s: bring bridge up: %v", name, err)
	}
	link, err := sp.nl.LinkByName(bridgeName)
	if err != nil {
		l.t.Fatalf("lab: network %s: %v", name, err)
	}
	return &Network{lab: l, name: name, sp: sp, bridge: link.Attrs().Index}
}

// Name is the network's name in the lab.
func (n *Network) Name() string { return n.name }

// Netns is the switch namespace's name under /run/netns (for capturing
// on the bridge with `ip netns exec NAME tcpdump -i br0`).
func (n *Network) Netns() string { return n.sp.name }

func (n *Network) nextPort() string {
	p := fmt.Sprintf("p%d", n.ports)
	n.ports++
	return p
}

// brStateForwarding is BR_STATE_FORWARDING (linux/if_bridge.h).
const brStateForwarding = 3

// portState returns the bridge port state (IFLA_BRPORT_STATE) of port
// index, or -1 if it is not a port of a bridge. netlink.Protinfo does not
// carry the state, so this reads the AF_BRIDGE link dump itself.
func (n *Network) portState(index int) (int, error) {
	state := -1
	err := inNetns(n.sp.ns, func() error {
		req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
		req.AddData(nl.NewIfInfomsg(unix.AF_BRIDGE))
		msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			info := nl.DeserializeIfInfomsg(m)
			if int(info.Index) != index {
				continue
			}
			attrs, err := nl.ParseRouteAttr(m[info.Len():])
			if err != nil {
				return err
			}
			for _, a := range attrs {
				if a.Attr.Type&^unix.NLA_F_NESTED != unix.IFLA_PROTINFO {
					continue
				}
				infos, err := nl.ParseRouteAttr(a.Value)
				if err != nil {
					return err
				}
				for _, i := range infos {
					if i.Attr.Type == nl.IFLA_BRPORT_STATE && len(i.Value) == 1 {
						state = int(i.Value[0])
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return -1, fmt.Errorf("lab: network %s: read bridge port state: %w", n.name, err)
	}
	return state, nil
}

// waitForwarding waits until port index forwards. A port that comes up
// while enslaved is enabled by the bridge only when the kernel's linkwatch
// has processed its carrier, asynchronously; a host that talks before
// then loses its first ARP request and waits a second for the retry.
func (n *Network) waitForwarding(index int) error {
	deadline := time.Now().Add(carrierWait)
	for {
		st, err := n.portState(index)
		if err != nil {
			return err
		}
		if st == brStateForwarding {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: network %s: port %d in state %d, not forwarding, after %v", n.name, index, st, carrierWait)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
