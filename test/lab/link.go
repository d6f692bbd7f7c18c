package lab

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// docPrefixes are the only address ranges Connect accepts: documentation
// ranges (RFC 5737, RFC 3849) and IPv6 link-local, so a lab can never
// impersonate a real network even if a packet escaped.
var docPrefixes = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fe80::/10"),
}

func checkLabAddr(p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("invalid prefix %v", p)
	}
	for _, d := range docPrefixes {
		if d.Contains(p.Addr()) && p.Bits() >= d.Bits() {
			return nil
		}
	}
	return fmt.Errorf("address %v is outside the documentation ranges %v", p, docPrefixes)
}

// carrierWait bounds how long Connect, Down, Up and Heal wait for the
// kernel to finish a change it makes asynchronously (host carrier and
// operstate, bridge port state; normally a few milliseconds).
const carrierWait = 3 * time.Second

// Link is a host's interface on a network: the host end of a veth pair
// whose other end is a port of the network's bridge.
type Link struct {
	host  *Host
	net   *Network
	name  string // in the host namespace
	index int    // in the host namespace
	mac   net.HardwareAddr
	addrs []netip.Prefix
	port  netlink.Link // switch end, in the network's namespace
}

// Connect plugs the host into nw: a veth pair whose host end is named
// eth0, eth1… in connection order and carries addrs (IPv6 without
// duplicate address detection, so they are usable at once), and whose
// other end is a bridge port. It returns once the host has carrier and
// the port forwards. Only documentation and link-local addresses are
// accepted.
func (h *Host) Connect(nw *Network, addrs ...netip.Prefix) *Link {
	t := h.lab.t
	t.Helper()
	if nw.lab != h.lab {
		t.Fatalf("lab: host %s: network %s belongs to another lab", h.name, nw.name)
	}
	for _, a := range addrs {
		if err := checkLabAddr(a); err != nil {
			t.Fatalf("lab: host %s: %v", h.name, err)
		}
	}
	name := fmt.Sprintf("eth%d", h.ifs)
	h.ifs++
	portName := nw.nextPort()
	fail := func(what string, err error) {
		t.Helper()
		t.Fatalf("lab: connect %s/%s to %s: %s: %v", h.name, name, nw.name, what, err)
	}

	// Created from the switch namespace with the peer placed straight
	// into the host's: neither end ever exists in the root namespace.
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: portName},
		PeerName:      name,
		PeerNamespace: netlink.NsFd(h.sp.ns),
	}
	if err := nw.sp.nl.LinkAdd(veth); err != nil {
		fail("create veth pair", err)
	}
	port, err := nw.sp.nl.LinkByName(portName)
	if err != nil {
		fail("find switch port", err)
	}
	// The alias says, in `ip link` inside the switch, who is plugged in.
	if err := nw.sp.nl.LinkSetAlias(port, h.name+"/"+name); err != nil {
		fail("set port alias", err)
	}
	if err := nw.sp.nl.LinkSetMasterByIndex(port, nw.bridge); err != nil {
		fail("attach port to bridge", err)
	}
	hl, err := h.sp.nl.LinkByName(name)
	if err != nil {
		fail("find host end", err)
	}
	for _, a := range addrs {
		addr := &netlink.Addr{IPNet: ipNet(a)}
		if a.Addr().Is6() {
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := h.sp.nl.AddrAdd(hl, addr); err != nil {
			fail("add address "+a.String(), err)
		}
	}
	if err := h.sp.nl.LinkSetUp(hl); err != nil {
		fail("bring host end up", err)
	}
	if err := nw.sp.nl.LinkSetUp(port); err != nil {
		fail("bring switch port up", err)
	}
	l := &Link{
		host:  h,
		net:   nw,
		name:  name,
		index: hl.Attrs().Index,
		mac:   hl.Attrs().HardwareAddr,
		addrs: slices.Clone(addrs),
		port:  port,
	}
	if err := l.waitUp(); err != nil {
		fail("wait for link", err)
	}
	return l
}

// Name is the interface name in the host (eth0, eth1…).
func (l *Link) Name() string { return l.name }

// MAC is the host interface's hardware address.
func (l *Link) MAC() net.HardwareAddr { return slices.Clone(l.mac) }

// Addrs are the addresses Connect put on the interface.
func (l *Link) Addrs() []netip.Prefix { return slices.Clone(l.addrs) }

// Host is the host the link belongs to.
func (l *Link) Host() *Host { return l.host }

// Network is the network the link is plugged into.
func (l *Link) Network() *Network { return l.net }

// Cut silently partitions the link: its bridge port leaves the bridge
// but stays up, so frames from the host die in the switch namespace and
// none reach it, while the host's interface keeps carrier (operstate UP,
// LOWER_UP) and notices nothing. Models a failed switch path.
func (l *Link) Cut() {
	l.host.lab.t.Helper()
	if err := l.net.sp.nl.LinkSetNoMaster(l.port); err != nil {
		l.host.lab.t.Fatalf("lab: cut %s/%s: %v", l.host.name, l.name, err)
	}
}

// Heal undoes Cut: the port rejoins the bridge and forwards at once (no
// STP). The bridge relearns the host's MAC from its next frame.
func (l *Link) Heal() {
	l.host.lab.t.Helper()
	err := l.net.sp.nl.LinkSetMasterByIndex(l.port, l.net.bridge)
	if err == nil {
		err = l.net.waitForwarding(l.port.Attrs().Index)
	}
	if err != nil {
		l.host.lab.t.Fatalf("lab: heal %s/%s: %v", l.host.name, l.name, err)
	}
}

// Down pulls the cable: the bridge port goes down, so the host's
// interface loses carrier (no LOWER_UP; operstate DOWN, or
// LOWERLAYERDOWN when the host happens to have a down interface with the
// port's ifindex: the kernel looks the veth peer up in the wrong
// namespace) but stays administratively UP with its addresses and
// routes. Returns once the host sees it.
func (l *Link) Down() {
	l.host.lab.t.Helper()
	err := l.net.sp.nl.LinkSetDown(l.port)
	if err == nil {
		err = l.waitCarrier(false)
	}
	if err != nil {
		l.host.lab.t.Fatalf("lab: down %s/%s: %v", l.host.name, l.name, err)
	}
}

// Up plugs the cable back in and returns once the host sees carrier
// and, unless the link is cut, the bridge forwards its frames.
func (l *Link) Up() {
	l.host.lab.t.Helper()
	err := l.net.sp.nl.LinkSetUp(l.port)
	if err == nil {
		err = l.waitUp()
	}
	if err != nil {
		l.host.lab.t.Fatalf("lab: up %s/%s: %v", l.host.name, l.name, err)
	}
}

// OperState is the host interface's RFC 2863 operational state as the
// kernel reports it ("up", "lower-layer-down", …).
func (l *Link) OperState() (string, error) {
	st, err := l.state()
	if err != nil {
		return "", err
	}
	return st.OperState.String(), nil
}

// Carrier reports whether the host interface has carrier (IFF_LOWER_UP).
func (l *Link) Carrier() (bool, error) {
	st, err := l.state()
	if err != nil {
		return false, err
	}
	return st.RawFlags&unix.IFF_LOWER_UP != 0, nil
}

func (l *Link) state() (*netlink.LinkAttrs, error) {
	hl, err := l.host.sp.nl.LinkByIndex(l.index)
	if err != nil {
		return nil, fmt.Errorf("lab: host %s: read %s: %w", l.host.name, l.name, err)
	}
	return hl.Attrs(), nil
}

// waitUp waits until the host has carrier and, if the port is in the
// bridge, the port forwards: both follow a port coming up asynchronously.
func (l *Link) waitUp() error {
	if err := l.waitCarrier(true); err != nil {
		return err
	}
	port, err := l.net.sp.nl.LinkByIndex(l.port.Attrs().Index)
	if err != nil {
		return fmt.Errorf("lab: network %s: read port: %w", l.net.name, err)
	}
	if port.Attrs().MasterIndex != l.net.bridge {
		return nil // cut: nothing will forward until Heal
	}
	return l.net.waitForwarding(port.Attrs().Index)
}

// waitCarrier polls until the host sees carrier (and operstate up) or
// no carrier, as wanted.
func (l *Link) waitCarrier(want bool) error {
	deadline := time.Now().Add(carrierWait)
	for {
		st, err := l.state()
		if err != nil {
			return err
		}
		carrier := st.RawFlags&unix.IFF_LOWER_UP != 0
		if carrier == want && (!want || st.OperState == netlink.OperUp) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("carrier still %v (operstate %v) after %v", carrier, st.OperState, carrierWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
