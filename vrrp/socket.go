package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one opening of the VRRP socket (IP protocol 112) of one
// interface and address family, bound to the interface as it was when it
// opened. The raw socket is one (transport_linux.go); vrrptest has a fake
// that carries adverts between nodes without root. Socket builds the VRRP
// logic on it, as mdlayher/arp builds ARP on a net.PacketConn.
type Conn interface {
	// ReadPacket blocks for the next packet; it fails once closed.
	ReadPacket(buf []byte) (Packet, error)
	// WritePacket sends one VRRP message from src to dst, with TTL (hop
	// limit) 255 as RFC 5798 §5.1.1.3 requires.
	WritePacket(b []byte, src, dst netip.Addr) error
	// JoinGroup makes the conn hear the VRRP multicast group.
	JoinGroup(group netip.Addr) error
	// Recreated reports whether the interface exists again under its name
	// with another index: it was deleted and created again, and this conn
	// neither hears nor reaches the new link. An absent interface is not
	// (yet) recreated.
	Recreated() bool
	Close() error
}

// Receiver takes the packets of one VRID; *Instance is one.
type Receiver interface {
	Deliver(Packet)
}

// SocketFaulter is a Receiver told when its socket cannot read (err) and
// when it reads again (nil); *Instance is one, and faults meanwhile rather
// than take over from a master it cannot hear.
type SocketFaulter interface {
	SocketFault(err error)
}

// Socket is the VRRP socket of one interface and address family, shared
// by the instances on it: it dispatches received packets by VRID and
// sends each instance's adverts. It follows its interface by name:
// Refresh reopens it when the interface was deleted and created again,
// and a socket that cannot read faults its instances until it reopens.
type Socket struct {
	name string
	v6   bool
	open func() (Conn, error)
	done chan struct{} // closed by Close: ends Serve and its retry pauses

	mu        sync.Mutex
	conn      Conn // replaced by a reopen; Serve moves to the new one
	closed    bool
	byVRID    map[uint8]Receiver
	multicast bool          // some instance here joins the VRRP group
	Unknown   atomic.Uint64 // packets for a VRID no instance here has
	Reopens   atomic.Uint64
	// dropsBefore is the kernel drops of the openings reopen replaced:
	// KernelDrops counts on across reopens.
	dropsBefore atomic.Uint64
}

// A Conn may also tell its interface's MTU and the packets the kernel
// dropped for it; the raw socket does, a fake need not.
type (
	mtuConn   interface{ MTU() int }
	dropsConn interface {
		KernelDrops() (uint64, error)
	}
)

// SocketStatus is what one socket saw that no instance counts: adverts
// for VRIDs nobody runs here (a misconfigured peer, or another cluster
// on the link) and packets the kernel dropped before lvsd read them (its
// receive buffer full: lvsd too slow, or a flood).
type SocketStatus struct {
	Interface   string
	IPv6        bool
	UnknownVRID uint64
	KernelDrops uint64 // 0 also when the conn cannot tell (a fake)
	DropsErr    error  // why the raw socket's drops could not be read
	Reopens     uint64
}

// Status reports the socket's counters.
func (s *Socket) Status() SocketStatus {
	st := SocketStatus{Interface: s.name, IPv6: s.v6, UnknownVRID: s.Unknown.Load(), Reopens: s.Reopens.Load()}
	c, _ := s.current()
	n, err := connDrops(c)
	if errors.Is(err, errors.ErrUnsupported) {
		err = nil
	}
	st.KernelDrops, st.DropsErr = s.dropsBefore.Load()+n, err
	return st
}

// connDrops is c's kernel drops, if it can tell them.
func connDrops(c Conn) (uint64, error) {
	dc, ok := c.(dropsConn)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	return dc.KernelDrops()
}

// NewSocket opens the socket of interface ifname through open, which
// Refresh and the read-failure handling call again to reopen it.
func NewSocket(ifname string, v6 bool, open func() (Conn, error)) (*Socket, error) {
	c, err := open()
	if err != nil {
		return nil, err
	}
	return &Socket{name: ifname, v6: v6, open: open, conn: c, done: make(chan struct{}), byVRID: map[uint8]Receiver{}}, nil
}

// Register routes the packets of vrid to r. A multicast instance also
// joins the VRRP group on the interface.
func (s *Socket) Register(vrid uint8, r Receiver, multicast bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.byVRID[vrid]; dup {
		return fmt.Errorf("vrrp: VRID %d already runs on %s", vrid, s.name)
	}
	if multicast && !s.multicast {
		if err := s.conn.JoinGroup(s.group()); err != nil {
			return fmt.Errorf("vrrp: join %s on %s: %w", s.group(), s.name, err) // not registered: the caller does not run it
		}
		s.multicast = true
	}
	s.byVRID[vrid] = r
	return nil
}

// Unregister stops routing vrid's packets (the instance was removed).
func (s *Socket) Unregister(vrid uint8) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byVRID, vrid)
}

func (s *Socket) group() netip.Addr {
	if s.v6 {
		return GroupIPv6
	}
	return GroupIPv4
}

// Refresh reopens the socket if its interface was deleted and created
// again (a VLAN or bond rebuilt): the old opening would neither hear nor
// reach the new link. It reports whether it reopened; an interface that
// is absent now is left for a later call. When the reopen fails, the
// instances here are faulted at once and the old opening is closed, so
// that Serve retries until one works: they must not leave FAULT deaf.
func (s *Socket) Refresh() (bool, error) {
	old, closed := s.current()
	if closed || !old.Recreated() {
		return false, nil
	}
	if err := s.reopen(); err != nil {
		s.faultAll(fmt.Errorf("vrrp: reopen on recreated %s: %w", s.name, err))
		old.Close() // Serve's read fails: it keeps retrying
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
		c.Close()
		return net.ErrClosed
	}
	if s.multicast {
		if err := c.JoinGroup(s.group()); err != nil {
			s.mu.Unlock()
			c.Close()
			return fmt.Errorf("vrrp: join %s on %s: %w", s.group(), s.name, err)
		}
	}
	old := s.conn
	dropped, _ := connDrops(old) // before the swap: Status never goes back
	s.dropsBefore.Add(dropped)
	s.conn = c
	s.mu.Unlock()
	s.Reopens.Add(1)
	return old.Close()
}

func (s *Socket) current() (Conn, bool) {
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
		p, err := c.ReadPacket(buf)
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
		s.dispatch(p)
	}
}

// dispatch hands p to the instance of its VRID (RFC 5798 §5.2.3: the
// second octet), or counts it.
func (s *Socket) dispatch(p Packet) {
	if len(p.Data) < 2 {
		return
	}
	s.mu.Lock()
	r := s.byVRID[p.Data[1]]
	s.mu.Unlock()
	if r == nil {
		s.Unknown.Add(1)
		return
	}
	r.Deliver(p)
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
		t := time.NewTimer(pause)
		select {
		case <-s.done:
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, readRetryMax)
		if err = s.reopen(); err == nil || errors.Is(err, net.ErrClosed) {
			s.faultAll(nil)
			return
		}
		err = fmt.Errorf("vrrp: reopen on %s: %w", s.name, err)
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

// Close stops Serve.
func (s *Socket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.done)
	return s.conn.Close()
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

// queuedConn is a Conn that can tell whether the kernel holds packets
// not read yet (the raw socket: SIOCINQ).
type queuedConn interface {
	Queued() bool
}

// Pending reports whether the kernel holds packets of this socket that
// lvsd has not read yet: an instance whose Master_Down_Timer fires waits
// for them before taking over (they may be its master's adverts, queued
// while lvsd was stopped).
func (t *socketTransport) Pending() bool {
	c, _ := t.s.current()
	q, ok := c.(queuedConn)
	return ok && q.Queued()
}

// Send lists in the advert only the VIPs that fit in one packet on the
// interface's MTU (at most 255): an advert is never fragmented, and more
// VIPs than fit must not stop the adverts (the peer would take over too).
func (t *socketTransport) Send(a *Advert) error {
	c, _ := t.s.current()
	mtu := MaxIPPacket
	if m, ok := c.(mtuConn); ok {
		mtu = m.MTU() // 0 (unknown): MarshalFit takes MaxIPPacket
	}
	var errs []error
	for _, dst := range t.dsts {
		b, err := a.MarshalFit(t.src, dst, mtu)
		if err != nil {
			return err
		}
		if err := c.WritePacket(b, t.src, dst); err != nil {
			errs = append(errs, fmt.Errorf("to %s: %w", dst, err))
		}
	}
	return errors.Join(errs...)
}
