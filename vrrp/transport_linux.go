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
	"time"

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
// packets by VRID and sends each instance's adverts. It follows its
// interface by name: Refresh reopens it when the interface was deleted and
// created again, since a socket stays bound to the index it opened on.
type Socket struct {
	name string
	v6   bool

	mu        sync.Mutex
	conn      *rawConn // replaced by a reopen; Serve moves to the new one
	closed    bool
	byVRID    map[uint8]Receiver
	multicast bool          // some instance here joins the VRRP group
	Unknown   atomic.Uint64 // packets for a VRID no instance here has
	Reopens   atomic.Uint64
}

// rawConn is one opening of the socket, bound to one interface index.
type rawConn struct {
	ifi    *net.Interface
	c4     *ipv4.RawConn
	c6     *ipv6.PacketConn
	joined bool
}

// SocketFaulter is a Receiver told when its socket cannot read (err) and
// when it reads again (nil); *Instance is one, and faults meanwhile rather
// than take over from a master it cannot hear.
type SocketFaulter interface {
	SocketFault(err error)
}

// OpenSocket opens the VRRP socket of interface ifname, bound to it so that
// it sees only that link's packets.
func OpenSocket(ifname string, v6 bool) (*Socket, error) {
	s := &Socket{name: ifname, v6: v6, byVRID: map[uint8]Receiver{}}
	c, err := s.open()
	if err != nil {
		return nil, err
	}
	s.conn = c
	return s, nil
}

func (s *Socket) open() (*rawConn, error) {
	ifi, err := net.InterfaceByName(s.name)
	if err != nil {
		return nil, fmt.Errorf("vrrp: interface %s: %w", s.name, err)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, s.name)
		})
		return errors.Join(err, serr)
	}}
	network, any := "ip4:112", "0.0.0.0"
	if s.v6 {
		network, any = "ip6:112", "::"
	}
	pc, err := lc.ListenPacket(context.Background(), network, any)
	if err != nil {
		if errors.Is(err, unix.EPERM) {
			err = fmt.Errorf("%w (raw sockets need root or CAP_NET_RAW)", err)
		}
		return nil, fmt.Errorf("vrrp: raw socket on %s: %w", s.name, err)
	}
	c := &rawConn{ifi: ifi}
	if s.v6 {
		err = c.setup6(pc)
	} else {
		err = c.setup4(pc)
	}
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("vrrp: socket on %s: %w", s.name, err)
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

func (c *rawConn) join(group netip.Addr) error {
	if c.joined {
		return nil
	}
	var err error
	if c.c6 != nil {
		err = c.c6.JoinGroup(c.ifi, &net.IPAddr{IP: group.AsSlice()})
	} else {
		err = c.c4.JoinGroup(c.ifi, &net.IPAddr{IP: group.AsSlice()})
	}
	if err != nil {
		return fmt.Errorf("vrrp: join %s on %s: %w", group, c.ifi.Name, err)
	}
	c.joined = true
	return nil
}

func (c *rawConn) close() error {
	if c.c6 != nil {
		return c.c6.Close()
	}
	return c.c4.Close()
}

// Register routes the packets of vrid to r. A multicast instance also
// joins the VRRP group on the interface.
func (s *Socket) Register(vrid uint8, r Receiver, multicast bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.byVRID[vrid]; dup {
		return fmt.Errorf("vrrp: VRID %d already runs on %s", vrid, s.name)
	}
	if multicast {
		if err := s.conn.join(s.group()); err != nil {
			return err // not registered: the caller does not run it
		}
		s.multicast = true
	}
	s.byVRID[vrid] = r
	return nil
}

func (s *Socket) group() netip.Addr {
	if s.v6 {
		return GroupIPv6
	}
	return GroupIPv4
}

// Refresh reopens the socket if its interface now has another index: it
// was deleted and created again (a VLAN or bond rebuilt), and the old
// socket would neither hear nor reach the new link. It reports whether it
// reopened; an interface that is absent now is left for a later call.
// When the reopen fails, the instances here are faulted at once and the
// old opening is closed, so that Serve retries until one works: they must
// not leave FAULT deaf.
func (s *Socket) Refresh() (bool, error) {
	ifi, err := net.InterfaceByName(s.name)
	if err != nil {
		return false, nil
	}
	s.mu.Lock()
	old, same := s.conn, s.closed || s.conn.ifi.Index == ifi.Index
	s.mu.Unlock()
	if same {
		return false, nil
	}
	if err := s.reopen(); err != nil {
		s.faultAll(fmt.Errorf("vrrp: reopen on recreated %s: %w", s.name, err))
		old.close() // Serve's read fails: it keeps retrying
		return true, err
	}
	return true, nil
}

// reopen replaces the socket's opening; Serve moves to the new one.
func (s *Socket) reopen() error {
	c, err := s.open()
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close()
		return net.ErrClosed
	}
	if s.multicast {
		if err := c.join(s.group()); err != nil {
			s.mu.Unlock()
			c.close()
			return err
		}
	}
	old := s.conn
	s.conn = c
	s.mu.Unlock()
	s.Reopens.Add(1)
	return old.close()
}

func (s *Socket) current() (*rawConn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn, s.closed
}

// readRetry is the first pause before a socket that failed to read is
// reopened; it doubles up to readRetryMax while reads keep failing.
const (
	readRetry    = time.Second
	readRetryMax = 30 * time.Second
)

// Serve reads packets until the socket is closed. A read that fails (not
// for a close or a reopen) faults the instances here, which must not take
// over from a master they cannot hear, and the socket is reopened until
// it reads again; report, if not nil, hears each such error.
func (s *Socket) Serve(report func(error)) {
	buf := make([]byte, 65536)
	retry := readRetry
	for {
		c, closed := s.current()
		if closed {
			return
		}
		p, err := c.read(buf)
		if err != nil {
			if now, closed := s.current(); closed {
				return
			} else if now != c {
				continue // reopened under us
			}
			s.readFailed(err, report, retry)
			retry = min(2*retry, readRetryMax) // until a read works
			continue
		}
		retry = readRetry
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

// readFailed faults the instances and reopens the socket until it
// works, pausing pause, then twice as long each time, up to readRetryMax.
// Reopened, the instances leave FAULT: a read error that persists faults
// them again at once, long before any master_down could run out.
func (s *Socket) readFailed(err error, report func(error), pause time.Duration) {
	err = fmt.Errorf("vrrp: read on %s: %w", s.name, err)
	s.faultAll(err)
	for {
		if report != nil {
			report(err)
		}
		time.Sleep(pause)
		pause = min(2*pause, readRetryMax)
		if _, closed := s.current(); closed {
			return
		}
		if err = s.reopen(); err == nil || errors.Is(err, net.ErrClosed) {
			s.faultAll(nil)
			return
		}
	}
}

func (s *Socket) faultAll(err error) {
	s.mu.Lock()
	var rs []Receiver
	for _, r := range s.byVRID {
		rs = append(rs, r)
	}
	s.mu.Unlock()
	for _, r := range rs {
		if f, ok := r.(SocketFaulter); ok {
			f.SocketFault(err)
		}
	}
}

func (c *rawConn) read(buf []byte) (Packet, error) {
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

// Close stops Serve.
func (s *Socket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.conn.close()
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
	c, _ := s.current()
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

// Unregister stops routing vrid's packets (the instance was removed).
func (s *Socket) Unregister(vrid uint8) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byVRID, vrid)
}
