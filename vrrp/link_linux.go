package vrrp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

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
// advertisements to all-nodes (RFC 4861 §7.2.6) for IPv6 VIPs. It keeps
// one socket per interface and kind between bursts.
type LinkAnnouncer struct {
	mu   sync.Mutex
	arps map[string]*linkConn[*arp.Client]
	ndps map[string]*linkConn[*ndp.Conn]
	// Retries counts sends that failed and went through on a new socket.
	Retries atomic.Uint64
}

// linkConn is a socket bound to the interface index it opened on: an
// interface deleted and created again under its name needs a new one.
type linkConn[C io.Closer] struct {
	index int
	c     C
}

var allNodes = netip.MustParseAddr("ff02::1")

// Announce sends one announcement for each of ips; one that fails does
// not hold back the others.
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
	p, err := arp.NewPacket(arp.OperationRequest, ifi.HardwareAddr, ip, ethernet.Broadcast, ip)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.arps == nil {
		l.arps = map[string]*linkConn[*arp.Client]{}
	}
	err = sendOn(l, l.arps, ifi, arp.Dial, func(c *arp.Client) error { return c.WriteTo(p, ethernet.Broadcast) })
	if err != nil {
		return fmt.Errorf("gratuitous ARP for %s on %s: %w", ip, ifi.Name, err)
	}
	return nil
}

func (l *LinkAnnouncer) unsolicitedNA(ifi *net.Interface, ip netip.Addr) error {
	na := &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: ip,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: ifi.HardwareAddr}},
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ndps == nil {
		l.ndps = map[string]*linkConn[*ndp.Conn]{}
	}
	open := func(ifi *net.Interface) (*ndp.Conn, error) {
		c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
		return c, err
	}
	err := sendOn(l, l.ndps, ifi, open, func(c *ndp.Conn) error { return c.WriteTo(na, nil, allNodes) })
	if err != nil {
		return fmt.Errorf("neighbour advertisement for %s on %s: %w", ip, ifi.Name, err)
	}
	return nil
}

// sendOn writes through the socket of ifi in conns, opening one if there
// is none (or only one bound to an index that is gone). A write that
// fails closes the socket and is tried once more on a new one: after the
// interface went down, a packet socket holds a pending ENETDOWN (the
// kernel sets sk_err when its device goes down) that its next send
// returns though the link is up again, and the first announcement of the
// next takeover must not be lost to it. l.mu is held.
func sendOn[C io.Closer](l *LinkAnnouncer, conns map[string]*linkConn[C], ifi *net.Interface,
	open func(*net.Interface) (C, error), write func(C) error) error {
	for retried := false; ; retried = true {
		lc := conns[ifi.Name]
		if lc != nil && lc.index != ifi.Index {
			lc.c.Close()
			delete(conns, ifi.Name)
			lc = nil
		}
		if lc == nil {
			c, err := open(ifi)
			if err != nil {
				return fmt.Errorf("socket on %s: %w", ifi.Name, err)
			}
			lc = &linkConn[C]{ifi.Index, c}
			conns[ifi.Name] = lc
		}
		err := write(lc.c)
		if err == nil {
			if retried {
				l.Retries.Add(1)
			}
			return nil
		}
		lc.c.Close()
		delete(conns, ifi.Name)
		if retried {
			return err
		}
	}
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
