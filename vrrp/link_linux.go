package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// PrimaryAddress is the address instance c speaks from on this host:
// ChooseSource over the interface's addresses as the kernel lists them.
func PrimaryAddress(c *Config) (netip.Addr, error) {
	if c.SourceIP.IsValid() {
		return c.SourceIP, nil
	}
	link, err := netlink.LinkByName(c.Interface)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("interface %s: %w", c.Interface, err)
	}
	family := netlink.FAMILY_V4
	if c.IPv6() {
		family = netlink.FAMILY_V6
	}
	addrs, err := netlink.AddrList(link, family)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("addresses of %s: %w", c.Interface, err)
	}
	var ips []netip.Addr
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			ips = append(ips, ip)
		}
	}
	return ChooseSource(c, ips)
}

// Netlink holds VIPs on interfaces through rtnetlink.
type Netlink struct{}

// AddVIPs adds the VIPs, skipping those present. IPv6 VIPs skip duplicate
// address detection: the VRRP election already made the address ours.
func (Netlink) AddVIPs(ifname string, vips []netip.Prefix) error {
	link, err := netlink.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("interface %s: %w", ifname, err)
	}
	var errs []error
	for _, v := range vips {
		a := &netlink.Addr{IPNet: prefixNet(v)}
		if v.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD
		}
		if err := netlink.AddrAdd(link, a); err != nil && !errors.Is(err, unix.EEXIST) {
			errs = append(errs, fmt.Errorf("add %s to %s: %w", v, ifname, err))
		}
	}
	return errors.Join(errs...)
}

// RemoveVIPs removes the VIPs, skipping those absent. An interface that
// does not exist holds none: that is not an error, or the removal would
// be retried until the interface came back.
func (Netlink) RemoveVIPs(ifname string, vips []netip.Prefix) error {
	link, err := netlink.LinkByName(ifname)
	if linkMissing(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("interface %s: %w", ifname, err)
	}
	var errs []error
	for _, v := range vips {
		err := netlink.AddrDel(link, &netlink.Addr{IPNet: prefixNet(v)})
		if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove %s from %s: %w", v, ifname, err))
		}
	}
	return errors.Join(errs...)
}

// dumpTries bounds the reads of an interface's addresses that the kernel
// interrupted (the addresses changed during the dump).
const dumpTries = 3

// Addrs lists the addresses of the interface now, IPv4 and IPv6.
func (Netlink) Addrs(ifname string) ([]netip.Addr, error) {
	link, err := netlink.LinkByName(ifname)
	if linkMissing(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", ifname, err)
	}
	var list []netlink.Addr
	for range dumpTries {
		// An interrupted dump may lack addresses that are there: retried,
		// never taken as it is.
		if list, err = netlink.AddrList(link, netlink.FAMILY_ALL); !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("addresses of %s: %w", ifname, err)
	}
	out := make([]netip.Addr, 0, len(list))
	for _, a := range list {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			out = append(out, ip.Unmap())
		}
	}
	return out, nil
}

func linkMissing(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}

func prefixNet(p netip.Prefix) *net.IPNet {
	bits := p.Addr().BitLen()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), bits)}
}

// LinkAnnouncer sends gratuitous ARP (request form, sender = target = VIP,
// to broadcast) for IPv4 VIPs and unsolicited, overriding neighbour
// advertisements to all-nodes (RFC 4861 §7.2.6) for IPv6 VIPs.
type LinkAnnouncer struct {
	mu   sync.Mutex
	arps map[string]*arpConn
	ndps map[string]*ndpConn
}

// arpConn and ndpConn are bound to the interface index they opened on: an
// interface deleted and created again under its name needs new ones.
type arpConn struct {
	index int
	c     *arp.Client
}

type ndpConn struct {
	index int
	c     *ndp.Conn
}

var allNodes = netip.MustParseAddr("ff02::1")

func (l *LinkAnnouncer) Announce(ifname string, ips []netip.Addr) error {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return fmt.Errorf("interface %s: %w", ifname, err)
	}
	var errs []error
	for _, ip := range ips {
		if ip.Is4() {
			errs = append(errs, l.garp(ifi, ip))
		} else {
			errs = append(errs, l.unsolicitedNA(ifi, ip))
		}
	}
	return errors.Join(errs...)
}

func (l *LinkAnnouncer) garp(ifi *net.Interface, ip netip.Addr) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ac := l.arps[ifi.Name]
	if ac != nil && ac.index != ifi.Index {
		ac.c.Close()
		delete(l.arps, ifi.Name)
		ac = nil
	}
	if ac == nil {
		c, err := arp.Dial(ifi)
		if err != nil {
			return fmt.Errorf("ARP socket on %s: %w", ifi.Name, err)
		}
		if l.arps == nil {
			l.arps = map[string]*arpConn{}
		}
		ac = &arpConn{ifi.Index, c}
		l.arps[ifi.Name] = ac
	}
	c := ac.c
	p, err := arp.NewPacket(arp.OperationRequest, ifi.HardwareAddr, ip, ethernet.Broadcast, ip)
	if err != nil {
		return err
	}
	if err := c.WriteTo(p, ethernet.Broadcast); err != nil {
		return fmt.Errorf("gratuitous ARP for %s on %s: %w", ip, ifi.Name, err)
	}
	return nil
}

func (l *LinkAnnouncer) unsolicitedNA(ifi *net.Interface, ip netip.Addr) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	nc := l.ndps[ifi.Name]
	if nc != nil && nc.index != ifi.Index {
		nc.c.Close()
		delete(l.ndps, ifi.Name)
		nc = nil
	}
	if nc == nil {
		c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
		if err != nil {
			return fmt.Errorf("NDP socket on %s: %w", ifi.Name, err)
		}
		if l.ndps == nil {
			l.ndps = map[string]*ndpConn{}
		}
		nc = &ndpConn{ifi.Index, c}
		l.ndps[ifi.Name] = nc
	}
	c := nc.c
	na := &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: ip,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: ifi.HardwareAddr}},
	}
	if err := c.WriteTo(na, nil, allNodes); err != nil {
		return fmt.Errorf("neighbour advertisement for %s on %s: %w", ip, ifi.Name, err)
	}
	return nil
}

// Close releases the announcer's sockets.
func (l *LinkAnnouncer) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, c := range l.arps {
		errs = append(errs, c.c.Close())
	}
	for _, c := range l.ndps {
		errs = append(errs, c.c.Close())
	}
	l.arps, l.ndps = nil, nil
	return errors.Join(errs...)
}
