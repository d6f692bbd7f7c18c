package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// tosInternetControl marks adverts as network control traffic, as routers
// do for their protocols (RFC 791 precedence 6).
const tosInternetControl = 0xc0

// OpenSocket opens the VRRP socket of interface ifname on the raw socket,
// bound to it so that it sees only that link's packets.
func OpenSocket(ifname string, v6 bool) (*Socket, error) {
	return NewSocket(ifname, v6, func() (Conn, error) { return OpenRawConn(ifname, v6) })
}

// rawConn is the raw IP protocol 112 socket, bound to one interface index.
type rawConn struct {
	ifi *net.Interface
	sc  syscall.RawConn // the socket's fd, for SIOCGIFMTU and its inode
	c4  *ipv4.RawConn
	c6  *ipv6.PacketConn
}

// OpenRawConn opens the raw VRRP socket of interface ifname (root or
// CAP_NET_RAW), bound to the interface with SO_BINDTODEVICE.
func OpenRawConn(ifname string, v6 bool) (Conn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("vrrp: interface %s: %w", ifname, err)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname)
		})
		return errors.Join(err, serr)
	}}
	network, any := "ip4:112", "0.0.0.0"
	if v6 {
		network, any = "ip6:112", "::"
	}
	pc, err := lc.ListenPacket(context.Background(), network, any)
	if err != nil {
		if errors.Is(err, unix.EPERM) {
			err = fmt.Errorf("%w (raw sockets need root or CAP_NET_RAW)", err)
		}
		return nil, fmt.Errorf("vrrp: raw socket on %s: %w", ifname, err)
	}
	c := &rawConn{ifi: ifi}
	if sc, ok := pc.(syscall.Conn); ok {
		c.sc, err = sc.SyscallConn()
	}
	switch {
	case err != nil:
	case v6:
		err = c.setup6(pc)
	default:
		err = c.setup4(pc)
	}
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("vrrp: socket on %s: %w", ifname, err)
	}
	return c, nil
}

func (c *rawConn) setup4(pc net.PacketConn) error {
	rc, err := ipv4.NewRawConn(pc)
	if err != nil {
		return err
	}
	c.c4 = rc
	return errors.Join(
		rc.SetMulticastInterface(c.ifi),
		rc.SetMulticastLoopback(false),
		rc.SetMulticastTTL(TTL),
	)
}

func (c *rawConn) setup6(pc net.PacketConn) error {
	pc6 := ipv6.NewPacketConn(pc)
	c.c6 = pc6
	return errors.Join(
		pc6.SetMulticastInterface(c.ifi),
		pc6.SetMulticastLoopback(false),
		pc6.SetMulticastHopLimit(TTL),
		pc6.SetHopLimit(TTL),
		pc6.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst, true),
	)
}

func (c *rawConn) JoinGroup(group netip.Addr) error {
	if c.c6 != nil {
		return c.c6.JoinGroup(c.ifi, &net.IPAddr{IP: group.AsSlice()})
	}
	return c.c4.JoinGroup(c.ifi, &net.IPAddr{IP: group.AsSlice()})
}

func (c *rawConn) Recreated() bool {
	ifi, err := net.InterfaceByName(c.ifi.Name)
	return err == nil && ifi.Index != c.ifi.Index
}

func (c *rawConn) Close() error {
	if c.c6 != nil {
		return c.c6.Close()
	}
	return c.c4.Close()
}

func (c *rawConn) ReadPacket(buf []byte) (Packet, error) {
	if c.c6 != nil {
		n, cm, src, err := c.c6.ReadFrom(buf)
		if err != nil {
			return Packet{}, err
		}
		p := Packet{Data: append([]byte(nil), buf[:n]...)}
		if ip, ok := src.(*net.IPAddr); ok {
			p.Src, _ = netip.AddrFromSlice(ip.IP)
		}
		if cm != nil {
			p.TTL = cm.HopLimit
			p.Dst, _ = netip.AddrFromSlice(cm.Dst)
		}
		return p, nil
	}
	h, payload, _, err := c.c4.ReadFrom(buf)
	if err != nil {
		return Packet{}, err
	}
	p := Packet{TTL: h.TTL, Data: append([]byte(nil), payload...)}
	p.Src, _ = netip.AddrFromSlice(h.Src.To4())
	p.Dst, _ = netip.AddrFromSlice(h.Dst.To4())
	return p, nil
}

func (c *rawConn) WritePacket(b []byte, src, dst netip.Addr) error {
	if c.c6 != nil {
		cm := &ipv6.ControlMessage{HopLimit: TTL, Src: src.AsSlice(), IfIndex: c.ifi.Index}
		_, err := c.c6.WriteTo(b, cm, &net.IPAddr{IP: dst.AsSlice(), Zone: c.ifi.Name})
		return err
	}
	h := &ipv4.Header{
		Version:  ipv4.Version,
		Len:      ipv4.HeaderLen,
		TOS:      tosInternetControl,
		TotalLen: ipv4.HeaderLen + len(b),
		TTL:      TTL,
		Protocol: IPProto,
		Src:      src.AsSlice(),
		Dst:      dst.AsSlice(),
	}
	return c.c4.WriteTo(h, b, nil)
}

// withFd runs f on the socket's descriptor.
func (c *rawConn) withFd(f func(fd int) error) error {
	if c.sc == nil {
		return errors.ErrUnsupported
	}
	var ferr error
	if err := c.sc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// MTU is the interface's MTU now (SIOCGIFMTU by name: it follows a
// change), or 0 when it cannot be read; Socket fits adverts to it.
func (c *rawConn) MTU() int {
	var mtu int
	c.withFd(func(fd int) error {
		ifr, err := unix.NewIfreq(c.ifi.Name)
		if err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFMTU, ifr); err != nil {
			return err
		}
		mtu = int(ifr.Uint32())
		return nil
	})
	return mtu
}

// Queued reports whether the kernel's receive queue of the socket holds a
// packet (SIOCINQ: the size of the next one, 0 when none).
func (c *rawConn) Queued() bool {
	n := 0
	err := c.withFd(func(fd int) error {
		v, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
		n = v
		return err
	})
	return err == nil && n > 0
}

// KernelDrops is how many packets the kernel dropped for this socket
// (its receive buffer full): the drops column of /proc/net/raw or
// /proc/net/raw6, found by the socket's inode.
func (c *rawConn) KernelDrops() (uint64, error) {
	var ino uint64
	err := c.withFd(func(fd int) error {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return err
		}
		ino = st.Ino
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("vrrp: socket inode: %w", err)
	}
	table := "/proc/net/raw"
	if c.c6 != nil {
		table = "/proc/net/raw6"
	}
	return procNetRawDrops(table, ino)
}
