package vrrp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// wire is a fake link: what one node sends, every other node that is not
// cut off receives, encoded and decoded as on a real network.
type wire struct {
	mu    sync.Mutex
	nodes []*node
}

type node struct {
	t    *testing.T
	w    *wire
	ip   netip.Addr
	inst *Instance
	cfg  Config
	stop context.CancelFunc

	mu            sync.Mutex
	cut           bool
	events        []Event
	sent          []sentAdvert
	vips          map[netip.Prefix]bool
	announced     []time.Time
	onEvent       func(Event) // also told of each transition
	group         *Group
	spy           *announceSpy
	vipFail       error    // AddVIPs and RemoveVIPs fail with it while set
	vipCalls      int      // AddVIPs and RemoveVIPs calls
	announceFails int      // Announce fails this many more times
	stopped       bool     // its reader is stopped too: packets stay "in the kernel"
	inKernel      []Packet // what arrived meanwhile, unread
}

// Pending is the transport's view of the kernel queue (SIOCINQ).
func (n *node) Pending() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.inKernel) > 0
}

// receive is the socket reading a packet: held while the reader is
// stopped, delivered otherwise.
func (n *node) receive(p Packet) {
	n.mu.Lock()
	if n.stopped {
		n.inKernel = append(n.inKernel, p)
		n.mu.Unlock()
		return
	}
	n.mu.Unlock()
	n.inst.Deliver(p)
}

// stopReader stops the node's reader, as SIGSTOP stops the process's;
// the returned func continues it, which reads what the kernel queued.
func (n *node) stopReader() (cont func()) {
	n.mu.Lock()
	n.stopped = true
	n.mu.Unlock()
	return func() {
		n.mu.Lock()
		n.stopped = false
		queued := n.inKernel
		n.inKernel = nil
		n.mu.Unlock()
		for _, p := range queued {
			n.inst.Deliver(p)
		}
	}
}

// announceSpy records which addresses each announcement named.
type announceSpy struct{ ips [][]netip.Addr }

type sentAdvert struct {
	at       time.Time
	priority uint8
}

func (n *node) Send(a *Advert) error {
	b, err := a.Marshal(n.ip, GroupIPv4)
	if err != nil {
		n.t.Errorf("%s: marshal: %v", n.cfg.Name, err)
		return err
	}
	n.mu.Lock()
	n.sent = append(n.sent, sentAdvert{time.Now(), a.Priority})
	cut := n.cut
	n.mu.Unlock()
	if cut {
		return nil
	}
	n.w.mu.Lock()
	defer n.w.mu.Unlock()
	for _, o := range n.w.nodes {
		if o != n && !o.isCut() {
			o.receive(Packet{Src: n.ip, Dst: GroupIPv4, TTL: TTL, Data: b})
		}
	}
	return nil
}

func (n *node) AddVIPs(iface string, vips []netip.Prefix) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.vipCalls++
	if n.vipFail != nil {
		return n.vipFail
	}
	for _, v := range vips {
		n.vips[v] = true
	}
	return nil
}

func (n *node) RemoveVIPs(iface string, vips []netip.Prefix) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.vipCalls++
	if n.vipFail != nil {
		return n.vipFail
	}
	for _, v := range vips {
		delete(n.vips, v)
	}
	return nil
}

func (n *node) Addrs(iface string) ([]netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []netip.Addr
	for v := range n.vips {
		out = append(out, v.Addr())
	}
	return out, nil
}

// failVIPs makes the node's VIP operations fail with err (nil: work).
func (n *node) failVIPs(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.vipFail = err
}

// outside changes the node's VIPs as another tool would (ip addr del/add)
// and tells the instance, as the address watch does.
func (n *node) outside(p netip.Prefix, present bool) {
	n.mu.Lock()
	if present {
		n.vips[p] = true
	} else {
		delete(n.vips, p)
	}
	n.mu.Unlock()
	n.inst.AddressesChanged()
}

func (n *node) Announce(iface string, ips []netip.Addr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.announceFails > 0 {
		n.announceFails--
		return errors.New("sendto: network is down")
	}
	n.announced = append(n.announced, time.Now())
	if n.spy != nil {
		n.spy.ips = append(n.spy.ips, slices.Clone(ips))
	}
	return nil
}

func (n *node) isCut() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cut
}

func (n *node) setCut(c bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = c
}

func (n *node) holds() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.vips) > 0
}

func (n *node) state() State {
	s, _ := n.inst.Status()
	return s.State
}

// lastEvent returns the latest transition.
func (n *node) lastEvent() Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.events) == 0 {
		return Event{}
	}
	return n.events[len(n.events)-1]
}

// lastSent is when the node last sent an advert.
func (n *node) lastSent() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent[len(n.sent)-1].at
}

func (n *node) announcements() []time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.announced)
}

var vipPrefix = netip.MustParsePrefix("192.0.2.100/24")

func testConfig(name string, prio uint8) Config {
	return Config{
		Name: name, Interface: "eth0", VRID: 51, Priority: prio, AdvertInterval: time.Second,
		Version: V3, Preempt: true, VIPs: []netip.Prefix{vipPrefix},
		GARP: GARP{Delay: 5 * time.Second, Repeat: 2},
	}
}

// add starts a node on the wire; call inside a synctest bubble. Options
// set the node up before its instance starts.
func (w *wire) add(t *testing.T, ip string, cfg Config, scripts map[string]TrackScript, opts ...func(*node)) *node {
	n := &node{t: t, w: w, ip: netip.MustParseAddr(ip), cfg: cfg, vips: map[netip.Prefix]bool{}}
	for _, o := range opts {
		o(n)
	}
	n.inst = NewInstance(cfg, Deps{
		Transport: n, Addresser: n, Announcer: n, LocalIP: n.ip, TrackScripts: scripts,
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Group: n.group,
		OnEvent: func(e Event) {
			n.mu.Lock()
			n.events = append(n.events, e)
			n.mu.Unlock()
			if n.onEvent != nil {
				n.onEvent(e)
			}
		},
	})
	w.mu.Lock()
	w.nodes = append(w.nodes, n)
	w.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	n.stop = func() { cancel(); <-n.inst.done }
	go n.inst.Run(ctx)
	t.Cleanup(func() { cancel() })
	return n
}

// kill makes a node vanish like a SIGKILLed daemon: no more adverts, no
// resignation.
func (n *node) kill() {
	n.setCut(true)
}
