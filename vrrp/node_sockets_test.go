package vrrp_test

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvsd/lvsd/vrrp"
)

// manyVIPs is n /32 VIPs from 10.0.0.1 upwards.
func manyVIPs(n int) []netip.Prefix {
	out := make([]netip.Prefix, n)
	ip := netip.MustParseAddr("10.0.0.1")
	for i := range out {
		out[i] = netip.PrefixFrom(ip, 32)
		ip = ip.Next()
	}
	return out
}

// A pair with 300 VIPs in one instance: the master advertises (the first
// 255 VIPs listed) and holds all 300, the backup stays backup, and the
// only announcements are the master's two bursts (at takeover and
// garp.delay later). Before, no advert could be encoded: the master sent
// none, so both were master.
func TestNodeManyVIPsOneMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ha, hb := pair()
		vips := manyVIPs(300)
		cfg := func(prio uint8) vrrp.NodeConfig {
			c := instance("VI_1", "eth0", 51, prio, vips[0])
			c.VIPs = vips
			return vrrp.NodeConfig{Instances: []vrrp.Config{c}}
		}
		a := startDirector(t, ha, cfg(150))
		b := startDirector(t, hb, cfg(100))
		time.Sleep(30 * time.Second)
		sa, sb := a.status(t, "VI_1"), b.status(t, "VI_1")
		if sa.State != vrrp.Master || sb.State != vrrp.Backup {
			t.Fatalf("A %s, B %s; want MASTER and BACKUP", sa.State, sb.State)
		}
		// Master after 3 s + skew, then an advert a second: 27 by 30 s.
		if sa.Drops["send_error"] != 0 || sa.Sent != 27 || sb.Received != 27 {
			t.Errorf("A sent %d adverts (%d send errors), B received %d; want 27 (one a second since 3.4 s)", sa.Sent, sa.Drops["send_error"], sb.Received)
		}
		for _, v := range []netip.Prefix{vips[0], vips[254], vips[255], vips[299]} {
			if !ha.Holds(v) || hb.Holds(v) {
				t.Errorf("%s held by A %t, B %t; want A only", v, ha.Holds(v), hb.Holds(v))
			}
		}
		if n := len(ha.Announcements()); n != 2*2 { // two bursts of garp.repeat 2
			t.Errorf("A announced %d times, want 4 (two bursts of 2)", n)
		}
		if n := len(hb.Announcements()); n != 0 {
			t.Errorf("B announced %d times, want none", n)
		}
	})
}

// dropsConn is a conn that tells its kernel drops, as the raw socket does.
type dropsConn struct {
	vrrp.Conn
	drops *atomic.Uint64
}

func (c dropsConn) KernelDrops() (uint64, error) { return c.drops.Load(), nil }

// Node.Sockets reports per socket the adverts for VRIDs nobody here runs
// and the kernel's drops, which count on across a reopen.
func TestNodeSocketsCountUnknownAndDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ha, hb := pair()
		var mu sync.Mutex
		var openings []*atomic.Uint64 // the drops of each opening, in order
		opened := func() []*atomic.Uint64 {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(openings)
		}
		deps := ha.Deps(quiet())
		deps.OpenConn = func(ifname string, v6 bool) (vrrp.Conn, error) {
			c, err := ha.OpenConn(ifname, v6)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			defer mu.Unlock()
			openings = append(openings, &atomic.Uint64{})
			return dropsConn{c, openings[len(openings)-1]}, nil
		}
		node := vrrp.NewNode(context.Background(), deps)
		t.Cleanup(node.Stop)
		if _, err := node.Apply(vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_1", "eth0", 51, 150, vip1)}}); err != nil {
			t.Fatal(err)
		}
		// B runs VRID 52, which A does not: each of its adverts is unknown to A.
		b := startDirector(t, hb, vrrp.NodeConfig{Instances: []vrrp.Config{instance("VI_2", "eth0", 52, 100, vip2)}})
		opened()[0].Store(5)
		time.Sleep(20*time.Second + time.Millisecond)
		got := node.Sockets()
		if len(got) != 1 {
			t.Fatalf("sockets %+v, want one", got)
		}
		sent := b.status(t, "VI_2").Sent
		if s := got[0]; s.Interface != "eth0" || s.IPv6 || sent == 0 || s.UnknownVRID != sent || s.KernelDrops != 5 || s.DropsErr != nil {
			t.Errorf("socket %+v; want eth0 IPv4, %d unknown VRID (B's adverts), 5 kernel drops", s, sent)
		}
		// A deaf spell reopens the socket: the drops of the old opening
		// stay counted; the new one's add to them.
		ha.SetDeaf("eth0", true)
		time.Sleep(time.Second / 2)
		ha.SetDeaf("eth0", false)
		time.Sleep(2 * time.Second)
		if n := len(opened()); n != 2 {
			t.Fatalf("%d openings, want 2", n)
		}
		opened()[1].Store(2)
		if s := node.Sockets()[0]; s.Reopens != 1 || s.KernelDrops != 7 {
			t.Errorf("after a reopen: %d reopens, %d kernel drops; want 1 and 5 + 2", s.Reopens, s.KernelDrops)
		}
	})
}
