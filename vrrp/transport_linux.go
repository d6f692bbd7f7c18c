package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// tosInternetControl marks adverts as network control traffic, as routers
// do for their protocols (RFC 791 precedence 6).
const tosInternetControl = 0xc0

// Receiver takes the packets of one VRID; *Instance is one.
type Receiver interface {
	Deliver(Packet)
}

// Socket is the raw VRRP socket (IP protocol 112) of one interface and
// address family, shared by the instances on it: it dispatches received
// packets by VRID and sends each instance's adverts.
type Socket struct {
	ifi *net.Interface
	v6  bool
	c4  *ipv4.RawConn
	c6  *ipv6.PacketConn

	mu      sync.Mutex
	byVRID  map[uint8]Receiver
	joined  bool
	Unknown atomic.Uint64 // packets for a VRID no instance here has
}

// OpenSocket opens the VRRP socket of interface ifname, bound to it so that
// it sees only that link's packets.
func OpenSocket(ifname string, v6 bool) (*Socket, error) {
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
	s := &Socket{ifi: ifi, v6: v6, byVRID: map[uint8]Receiver{}}
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
	if v6 {
		err = s.setup6(pc)
	} else {
		err = s.setup4(pc)
	}
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("vrrp: socket on %s: %w", ifname, err)
	}
	return s, nil
}

func (s *Socket) setup4(pc net.PacketConn) error {
	c, err := ipv4.NewRawConn(pc)
	if err != nil {
		return err
	}
	s.c4 = c
	return errors.Join(
		c.SetMulticastInterface(s.ifi),
		c.SetMulticastLoopback(false),
		c.SetMulticastTTL(TTL),
	)
}

func (s *Socket) setup6(pc net.PacketConn) error {
	c := ipv6.NewPacketConn(pc)
	s.c6 = c
	return errors.Join(
		c.SetMulticastInterface(s.ifi),
		c.SetMulticastLoopback(false),
		c.SetMulticastHopLimit(TTL),
		c.SetHopLimit(TTL),
		c.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst, true),
	)
}

// Register routes the packets of vrid to r. A multicast instance also
// joins the VRRP group on the interface.
func (s *Socket) Register(vrid uint8, r Receiver, multicast bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.byVRID[vrid]; dup {
		return fmt.Errorf("vrrp: VRID %d already runs on %s", vrid, s.ifi.Name)
	}
	s.byVRID[vrid] = r
	if multicast && !s.joined {
		var err error
		if s.v6 {
			err = s.c6.JoinGroup(s.ifi, &net.IPAddr{IP: GroupIPv6.AsSlice()})
		} else {
			err = s.c4.JoinGroup(s.ifi, &net.IPAddr{IP: GroupIPv4.AsSlice()})
		}
		if err != nil {
			return fmt.Errorf("vrrp: join %s on %s: %w", s.group(), s.ifi.Name, err)
		}
		s.joined = true
	}
	return nil
}

func (s *Socket) group() netip.Addr {
	if s.v6 {
		return GroupIPv6
	}
	return GroupIPv4
}

// Serve reads packets until the socket is closed.
func (s *Socket) Serve() error {
	buf := make([]byte, 65536)
	for {
		p, err := s.read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("vrrp: read on %s: %w", s.ifi.Name, err)
		}
		if len(p.Data) < 2 {
			continue
		}
		s.mu.Lock()
		r := s.byVRID[p.Data[1]]
		s.mu.Unlock()
		if r == nil {
			s.Unknown.Add(1)
			continue
		}
		r.Deliver(p)
	}
}

func (s *Socket) read(buf []byte) (Packet, error) {
	if s.v6 {
		n, cm, src, err := s.c6.ReadFrom(buf)
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
	h, payload, _, err := s.c4.ReadFrom(buf)
	if err != nil {
		return Packet{}, err
	}
	p := Packet{TTL: h.TTL, Data: append([]byte(nil), payload...)}
	p.Src, _ = netip.AddrFromSlice(h.Src.To4())
	p.Dst, _ = netip.AddrFromSlice(h.Dst.To4())
	return p, nil
}

// Close stops Serve.
func (s *Socket) Close() error {
	if s.v6 {
		return s.c6.Close()
	}
	return s.c4.Close()
}

// Transport returns the sender of one instance: from src, to the VRRP
// group, or to each unicast peer with the checksum made for that peer.
func (s *Socket) Transport(src netip.Addr, peers []netip.Addr) Transport {
	dsts := peers
	if len(dsts) == 0 {
		dsts = []netip.Addr{s.group()}
	}
	return &socketTransport{s: s, src: src, dsts: dsts}
}

type socketTransport struct {
	s    *Socket
	src  netip.Addr
	dsts []netip.Addr
}

func (t *socketTransport) Send(a *Advert) error {
	var errs []error
	for _, dst := range t.dsts {
		b, err := a.Marshal(t.src, dst)
		if err != nil {
			return err
		}
		if err := t.s.write(b, t.src, dst); err != nil {
			errs = append(errs, fmt.Errorf("to %s: %w", dst, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Socket) write(b []byte, src, dst netip.Addr) error {
	if s.v6 {
		cm := &ipv6.ControlMessage{HopLimit: TTL, Src: src.AsSlice(), IfIndex: s.ifi.Index}
		_, err := s.c6.WriteTo(b, cm, &net.IPAddr{IP: dst.AsSlice(), Zone: s.ifi.Name})
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
	return s.c4.WriteTo(h, b, nil)
}

// Unregister stops routing vrid's packets (the instance was removed).
func (s *Socket) Unregister(vrid uint8) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byVRID, vrid)
}
