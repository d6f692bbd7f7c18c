package vrrptest

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/lvsd/lvsd/vrrp"
)

// Host is one fake machine: its interfaces, the VIPs it holds and the
// announcements it made. It is a vrrp.Addresser and a vrrp.Announcer, and
// Deps gives a node every seam of it.
type Host struct {
	Name   string
	Runner *Runner // its track and notify scripts

	mu        sync.Mutex
	links     map[string]*link
	nextIndex int
	subs      []*watchSub
	addrSubs  []*addrSub
	vips      map[string]map[netip.Prefix]bool // interface → VIPs held
	removed   []netip.Prefix                   // VIPs that were held and got removed, in order
	announced []Announcement
	vipFail   error // the Addresser's adds and removes fail with it while set
	vipCalls  int   // the Addresser's adds and removes, failed or not
}

// link is one interface of a host.
type link struct {
	wire    *Wire
	index   int
	up      bool
	deaf    bool
	addrs   []netip.Addr
	changed chan struct{} // closed on each change: wakes the conns' reads
}

// Announcement is one burst of gratuitous ARP or NA.
type Announcement struct {
	Interface string
	IPs       []netip.Addr
	At        time.Time
}

type watchSub struct {
	ch   chan linkState
	done chan struct{}
}

type linkState struct {
	name string
	up   bool
}

// NewHost makes a host without interfaces.
func NewHost(name string) *Host {
	return &Host{Name: name, Runner: &Runner{}, links: map[string]*link{}, nextIndex: 2,
		vips: map[string]map[netip.Prefix]bool{}}
}

// Deps are the host's seams for a node; the test adds OnEvent.
func (h *Host) Deps(log *slog.Logger) vrrp.NodeDeps {
	return vrrp.NodeDeps{
		OpenConn: h.OpenConn, Source: h.Source, WatchInterfaces: h.WatchInterfaces, WatchAddresses: h.WatchAddresses,
		Addresser: h, Announcer: h, Runner: h.Runner, Log: log,
	}
}

// AddInterface attaches an interface, up, to wire with the given addresses
// (in the kernel's order: the first IPv4 one is the primary).
func (h *Host) AddInterface(name string, wire *Wire, addrs ...netip.Addr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.links[name] = &link{wire: wire, index: h.nextIndex, up: true, addrs: addrs, changed: make(chan struct{})}
	h.nextIndex++
}

// SetLink takes an interface down (no carrier: nothing in or out, the
// watch reports it) or up again.
func (h *Host) SetLink(name string, up bool) {
	h.change(name, func(l *link) { l.up = up })
	h.publish(linkState{name, up})
}

// Recreate deletes the interface and creates it again under its name,
// with a new index and, if given, new addresses: conns opened before
// neither hear nor reach the link. The watch reports it down, then up.
func (h *Host) Recreate(name string, addrs ...netip.Addr) {
	h.change(name, func(l *link) {
		l.index = h.nextIndex
		h.nextIndex++
		l.up = true
		if len(addrs) > 0 {
			l.addrs = addrs
		}
	})
	h.publish(linkState{name, false})
	h.publish(linkState{name, true})
	h.mu.Lock()
	h.addrsChanged(name)
	h.mu.Unlock()
}

// SetDeaf makes the reads of every VRRP conn on the interface fail (the
// ones open and the ones opened meanwhile), or work again.
func (h *Host) SetDeaf(name string, deaf bool) {
	h.change(name, func(l *link) { l.deaf = deaf })
}

func (h *Host) change(name string, f func(*link)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[name]
	if l == nil {
		panic("vrrptest: no interface " + name + " on " + h.Name)
	}
	f(l)
	close(l.changed)
	l.changed = make(chan struct{})
}

// publish tells every interface watch of a change, in order.
func (h *Host) publish(s linkState) {
	h.mu.Lock()
	subs := slices.Clone(h.subs)
	h.mu.Unlock()
	for _, sub := range subs {
		select {
		case sub.ch <- s:
		case <-sub.done:
		}
	}
}

func (h *Host) deafness(name string) (bool, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[name]
	return l.deaf, l.changed
}

// linkLive reports whether a conn bound to index on the interface can
// send and receive.
func (h *Host) linkLive(name string, index int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[name]
	return l != nil && l.up && l.index == index
}

func (h *Host) index(name string) (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[name]
	if l == nil {
		return 0, false
	}
	return l.index, true
}

func (h *Host) hasAddr(name string, a netip.Addr) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[name]
	if l == nil {
		return false
	}
	if slices.Contains(l.addrs, a) {
		return true
	}
	for p := range h.vips[name] {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// OpenConn opens a fake VRRP socket on the interface (NodeDeps.OpenConn).
func (h *Host) OpenConn(ifname string, v6 bool) (vrrp.Conn, error) {
	h.mu.Lock()
	l := h.links[ifname]
	if l == nil {
		h.mu.Unlock()
		return nil, fmt.Errorf("vrrptest: %s has no interface %s", h.Name, ifname)
	}
	c := &Conn{host: h, ifname: ifname, v6: v6, index: l.index, wire: l.wire,
		rx: make(chan vrrp.Packet, 64), closed: make(chan struct{})}
	h.mu.Unlock()
	c.wire.mu.Lock()
	c.wire.conns = append(c.wire.conns, c)
	c.wire.mu.Unlock()
	return c, nil
}

// Source chooses an instance's address among the interface's, as
// vrrp.PrimaryAddress does on a real host (NodeDeps.Source).
func (h *Host) Source(c *vrrp.Config) (netip.Addr, error) {
	h.mu.Lock()
	l := h.links[c.Interface]
	var addrs []netip.Addr
	if l != nil {
		addrs = slices.Clone(l.addrs)
	}
	h.mu.Unlock()
	if l == nil {
		return netip.Addr{}, fmt.Errorf("vrrptest: %s has no interface %s", h.Name, c.Interface)
	}
	return vrrp.ChooseSource(c, addrs)
}

// WatchInterfaces reports the named interfaces' states, then each
// SetLink and Recreate, until ctx ends (NodeDeps.WatchInterfaces).
func (h *Host) WatchInterfaces(ctx context.Context, names []string, report func(name string, up bool)) error {
	sub := &watchSub{ch: make(chan linkState, 64), done: make(chan struct{})}
	last := map[string]bool{}
	h.mu.Lock()
	for _, n := range names {
		l := h.links[n]
		last[n] = l != nil && l.up
	}
	h.subs = append(h.subs, sub)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.subs = slices.DeleteFunc(h.subs, func(s *watchSub) bool { return s == sub })
		h.mu.Unlock()
		close(sub.done)
	}()
	for _, n := range names {
		report(n, last[n])
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case s := <-sub.ch:
			if up, watched := last[s.name]; watched && up != s.up {
				last[s.name] = s.up
				report(s.name, s.up)
			}
		}
	}
}

// AddVIPs holds the VIPs on the interface (vrrp.Addresser), unless
// FailVIPs made it fail.
func (h *Host) AddVIPs(iface string, vips []netip.Prefix) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.vipCalls++
	if h.vipFail != nil {
		return h.vipFail
	}
	h.holdVIPs(iface, vips)
	return nil
}

// RemoveVIPs drops the VIPs from the interface (vrrp.Addresser), unless
// FailVIPs made it fail.
func (h *Host) RemoveVIPs(iface string, vips []netip.Prefix) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.vipCalls++
	if h.vipFail != nil {
		return h.vipFail
	}
	changed := false
	for _, v := range vips {
		if h.vips[iface][v] {
			delete(h.vips[iface], v)
			h.removed = append(h.removed, v)
			changed = true
		}
	}
	if changed {
		h.addrsChanged(iface)
	}
	return nil
}

// holdVIPs adds vips to the interface and tells the address watches if
// that changed anything. h.mu is held.
func (h *Host) holdVIPs(iface string, vips []netip.Prefix) {
	if h.vips[iface] == nil {
		h.vips[iface] = map[netip.Prefix]bool{}
	}
	changed := false
	for _, v := range vips {
		changed = changed || !h.vips[iface][v]
		h.vips[iface][v] = true
	}
	if changed {
		h.addrsChanged(iface)
	}
}

// Addrs lists the interface's addresses and the VIPs on it
// (vrrp.Addresser); none for an interface the host does not have.
func (h *Host) Addrs(iface string) ([]netip.Addr, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[iface]
	if l == nil {
		return nil, nil
	}
	out := slices.Clone(l.addrs)
	for p := range h.vips[iface] {
		out = append(out, p.Addr())
	}
	return out, nil
}

// FailVIPs makes the host's VIP adds and removes fail with err from now
// on, as EMFILE did at a takeover; nil makes them work again.
func (h *Host) FailVIPs(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.vipFail = err
}

// VIPCalls counts the VIP adds and removes so far, failed or not.
func (h *Host) VIPCalls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.vipCalls
}

// DeleteVIP removes vip from the interface as something other than lvsd
// would (ip addr del, a network manager): not counted in Removed.
func (h *Host) DeleteVIP(iface string, vip netip.Prefix) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.vips[iface][vip] {
		delete(h.vips[iface], vip)
		h.addrsChanged(iface)
	}
}

// AddVIP puts vip on the interface as something other than lvsd would
// (ip addr add by hand).
func (h *Host) AddVIP(iface string, vip netip.Prefix) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holdVIPs(iface, []netip.Prefix{vip})
}

// SetAddrs renumbers the interface: its own addresses become addrs (in
// the kernel's order), its VIPs stay, its link does not change.
func (h *Host) SetAddrs(iface string, addrs ...netip.Addr) {
	h.change(iface, func(l *link) { l.addrs = slices.Clone(addrs) })
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addrsChanged(iface)
}

// addrSub is one address watch: the interfaces changed since it last
// looked, and a wake-up. Telling it never blocks, so that the host can
// tell it from inside the Addresser, on an instance's goroutine.
type addrSub struct {
	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
}

// addrsChanged tells every address watch that iface changed. h.mu is held.
func (h *Host) addrsChanged(iface string) {
	for _, sub := range h.addrSubs {
		sub.mu.Lock()
		sub.pending[iface] = true
		sub.mu.Unlock()
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}

// WatchAddresses reports each named interface at start, then each change
// of its addresses (lvsd's VIPs, DeleteVIP, AddVIP, SetAddrs, Recreate),
// until ctx ends (NodeDeps.WatchAddresses).
func (h *Host) WatchAddresses(ctx context.Context, names []string, changed func(name string)) error {
	sub := &addrSub{pending: map[string]bool{}, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	h.addrSubs = append(h.addrSubs, sub)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.addrSubs = slices.DeleteFunc(h.addrSubs, func(s *addrSub) bool { return s == sub })
		h.mu.Unlock()
	}()
	for _, n := range names {
		changed(n)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.wake:
		}
		sub.mu.Lock()
		pending := sub.pending
		sub.pending = map[string]bool{}
		sub.mu.Unlock()
		for _, n := range names {
			if pending[n] {
				changed(n)
			}
		}
	}
}

// Holds reports whether the host holds vip on any interface.
func (h *Host) Holds(vip netip.Prefix) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, held := range h.vips {
		if held[vip] {
			return true
		}
	}
	return false
}

// Removed lists the VIPs removed while held, in order, since the start.
func (h *Host) Removed() []netip.Prefix {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.removed)
}

// Announce records a burst (vrrp.Announcer).
func (h *Host) Announce(iface string, ips []netip.Addr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.announced = append(h.announced, Announcement{Interface: iface, IPs: slices.Clone(ips), At: time.Now()})
	return nil
}

// Announcements lists the bursts so far.
func (h *Host) Announcements() []Announcement {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.announced)
}
