// Package vrrptest has fakes of every OS seam of a vrrp.Node, so that
// nodes run against each other without root, under testing/synctest: a
// Wire (a link segment carrying adverts between the conns of several
// hosts), and a Host with its interfaces (link up or down, recreated,
// deaf, renumbered), the VIPs it holds (removed or added by something
// else, adds and removes that fail), the watches of links and addresses,
// its announcements and its scripts. It imports only vrrp.
package vrrptest

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/lvsd/lvsd/vrrp"
)

// Wire is one link segment: what a conn on it sends, the conns of the
// other hosts on it receive, as a network would deliver it.
type Wire struct {
	mu    sync.Mutex
	conns []*Conn
}

// NewWire makes an empty segment; Host.AddInterface attaches to it.
func NewWire() *Wire { return &Wire{} }

// Conn is a fake VRRP socket (vrrp.Conn) of one host interface, bound to
// the index the interface had when it opened.
type Conn struct {
	host   *Host
	ifname string
	v6     bool
	index  int
	wire   *Wire
	rx     chan vrrp.Packet
	closed chan struct{}
	once   sync.Once
	joined atomic.Bool
}

var _ vrrp.Conn = (*Conn)(nil)

// errDeaf is what a deaf conn's reads fail with.
var errDeaf = fmt.Errorf("vrrptest: deaf: %w", syscall.ENETDOWN)

// ReadPacket returns the next packet; it fails while the host made the
// interface deaf, and once closed.
func (c *Conn) ReadPacket([]byte) (vrrp.Packet, error) {
	for {
		deaf, changed := c.host.deafness(c.ifname)
		select {
		case <-c.closed:
			return vrrp.Packet{}, net.ErrClosed
		default:
		}
		if deaf {
			return vrrp.Packet{}, errDeaf
		}
		select {
		case p := <-c.rx:
			return p, nil
		case <-c.closed:
			return vrrp.Packet{}, net.ErrClosed
		case <-changed:
		}
	}
}

// WritePacket delivers b to every other host's conn on the wire that
// would receive it: same family, link up, bound to the interface as it
// is; for the VRRP group those that joined it, otherwise the one whose
// interface has the address dst.
func (c *Conn) WritePacket(b []byte, src, dst netip.Addr) error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	if !c.host.linkLive(c.ifname, c.index) {
		return fmt.Errorf("vrrptest: send on %s: %w", c.ifname, syscall.ENETDOWN)
	}
	p := vrrp.Packet{Src: src, Dst: dst, TTL: vrrp.TTL, Data: slices.Clone(b)}
	group := dst == vrrp.GroupIPv4 || dst == vrrp.GroupIPv6
	c.wire.mu.Lock()
	defer c.wire.mu.Unlock()
	for _, o := range c.wire.conns {
		if o.host == c.host || o.v6 != c.v6 || !o.host.linkLive(o.ifname, o.index) {
			continue
		}
		if group && !o.joined.Load() || !group && !o.host.hasAddr(o.ifname, dst) {
			continue
		}
		select {
		case o.rx <- p:
		default: // a full receive queue drops, as a socket buffer does
		}
	}
	return nil
}

// JoinGroup makes the conn receive adverts to the VRRP group.
func (c *Conn) JoinGroup(netip.Addr) error {
	c.joined.Store(true)
	return nil
}

// Recreated reports whether the host recreated the interface since the
// conn opened.
func (c *Conn) Recreated() bool {
	index, ok := c.host.index(c.ifname)
	return ok && index != c.index
}

// Close ends the conn: reads fail, the wire forgets it.
func (c *Conn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.wire.mu.Lock()
		c.wire.conns = slices.DeleteFunc(c.wire.conns, func(o *Conn) bool { return o == c })
		c.wire.mu.Unlock()
	})
	return nil
}
