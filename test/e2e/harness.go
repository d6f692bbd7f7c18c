//go:build lab || bench

// Package e2e runs lvsd as operators do, in the namespace lab: real
// processes, real sockets, and keepalived as the interop peer.
package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
)

// lvsdBin is the lvsd binary under test (lvsdtest.Binary), for the
// commands the tests run themselves.
var lvsdBin string

// Addresses of the standard pair: one segment, two directors, an observer.
var (
	segment = netip.MustParsePrefix("192.0.2.0/24")
	dirAIP  = netip.MustParsePrefix("192.0.2.11/24")
	dirBIP  = netip.MustParsePrefix("192.0.2.12/24")
	obsIP   = netip.MustParsePrefix("192.0.2.50/24")
	vip     = netip.MustParseAddr("192.0.2.100")
)

// pairLab is two director hosts and an observer on one segment.
type pairLab struct {
	t        *testing.T
	lab      *lab.Lab
	a, b     *lab.Host
	aLink    *lab.Link
	bLink    *lab.Link
	observer *lab.Host
	arps     *lab.ARPWatch
}

func newPairLab(t *testing.T) *pairLab {
	l := lab.New(t)
	nw := l.Network("lan")
	p := &pairLab{t: t, lab: l, a: l.Host("dir-a"), b: l.Host("dir-b"), observer: l.Host("obs")}
	p.aLink = p.a.Connect(nw, dirAIP)
	p.bLink = p.b.Connect(nw, dirBIP)
	obsLink := p.observer.Connect(nw, obsIP)
	p.arps = p.observer.WatchARP(t, obsLink.Name())
	return p
}

// learnVIP makes the observer resolve the VIP, so that it has a neighbour
// entry that gratuitous ARP must then move.
func (p *pairLab) learnVIP() {
	p.t.Helper()
	err := p.observer.Do(func() error {
		c, err := net.Dial("udp4", netip.AddrPortFrom(vip, 9).String())
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("who has the VIP"))
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
	lvsdtest.WaitFor(p.t, 3*time.Second, "observer resolves the VIP", func() bool {
		_, _, ok := p.observer.Neighbor(vip)
		return ok
	})
}

// neighborMAC is the observer's current MAC for the VIP.
func (p *pairLab) neighborMAC() net.HardwareAddr {
	mac, _, _ := p.observer.Neighbor(vip)
	return mac
}

// holdsVIP reports whether host h has the VIP on its eth0.
func holdsVIP(t *testing.T, h *lab.Host) bool { return holds(t, h, vip) }

// holds reports whether host h has ip on its eth0.
func holds(t *testing.T, h *lab.Host, ip netip.Addr) bool {
	held, err := h.HasAddr("eth0", ip)
	if err != nil {
		t.Errorf("reading addresses of %s: %v", h.Name(), err)
	}
	return held
}

// router is a VRRP daemon under test: lvsd or keepalived (both
// *lvsdtest.Daemon and *lvsdtest.Process).
type router interface {
	Name() string
	Kill()      // SIGKILL: no resignation
	Terminate() // SIGTERM and wait: resigns with priority 0
}

// waitGARP waits for the first GARP for the VIP from mac after t0 and
// returns how long after t0 it came.
func waitGARP(t testing.TB, w *lab.ARPWatch, t0 time.Time, mac net.HardwareAddr, timeout time.Duration) time.Duration {
	t.Helper()
	var at time.Time
	lvsdtest.WaitFor(t, timeout, fmt.Sprintf("gratuitous ARP for %s from %s", vip, mac), func() bool {
		var ok bool
		at, ok = w.First(t0, vip, mac)
		return ok
	})
	return at.Sub(t0)
}
