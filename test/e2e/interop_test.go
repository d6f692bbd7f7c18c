//go:build lab

package e2e

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/vrrp"
)

// TestKeepalivedInterop pairs lvsd with Debian's keepalived in both roles,
// for v3 multicast, v2 with a password, and unicast peers. In each case
// the master is killed and the peer takes over, then the master returns
// and preempts: failover both ways between the two implementations.
func TestKeepalivedInterop(t *testing.T) {
	modes := []struct {
		name string
		s    func(self, peer netip.Addr) vrrpSettings
	}{
		{"v3-multicast", func(_, _ netip.Addr) vrrpSettings {
			return vrrpSettings{version: 3, interval: 500 * time.Millisecond, preempt: true}
		}},
		{"v2-auth", func(_, _ netip.Addr) vrrpSettings {
			return vrrpSettings{version: 2, interval: time.Second, authPass: "s3cret", preempt: true}
		}},
		{"v3-unicast", func(self, peer netip.Addr) vrrpSettings {
			return vrrpSettings{version: 3, interval: 500 * time.Millisecond, source: self, peers: []netip.Addr{peer}, preempt: true}
		}},
	}
	for _, m := range modes {
		for _, lvsdMaster := range []bool{true, false} {
			role := "lvsd-master"
			if !lvsdMaster {
				role = "keepalived-master"
			}
			t.Run(m.name+"/"+role, func(t *testing.T) {
				interop(t, m.s, lvsdMaster)
			})
		}
	}
}

func interop(t *testing.T, settings func(self, peer netip.Addr) vrrpSettings, lvsdMaster bool) {
	p := newPairLab(t)
	aIP, bIP := dirAIP.Addr(), dirBIP.Addr()
	sa, sb := settings(aIP, bIP), settings(bIP, aIP)

	// dir-a (priority 150) is the master, dir-b (100) the backup; one of
	// them is lvsd, the other keepalived.
	var lv *lvsdtest.Daemon
	startA := func() router {
		if lvsdMaster {
			lv = lvsdtest.Start(t, p.a, sa.lvsdHCL(150))
			return lv
		}
		return startKeepalived(t, p.a, sa.keepalivedConf("ka-a", 150))
	}
	a := startA()
	if lvsdMaster {
		startKeepalived(t, p.b, sb.keepalivedConf("ka-b", 100))
	} else {
		lv = lvsdtest.Start(t, p.b, sb.lvsdHCL(100))
	}
	lvsdtest.WaitFor(t, 8*time.Second, "dir-a holds the VIP", func() bool { return holdsVIP(t, p.a) })
	time.Sleep(3 * sa.interval)
	if holdsVIP(t, p.b) {
		t.Fatal("both directors hold the VIP")
	}
	want := map[bool]string{true: "MASTER", false: "BACKUP"}[lvsdMaster]
	if s := lv.State(); s != want {
		t.Fatalf("lvsd is %s, want %s", s, want)
	}

	// dir-a dies: dir-b takes over.
	killed := time.Now()
	a.Kill()
	v := vrrp.Version(sa.version)
	bound := vrrp.MasterDown(v, 100, sa.interval) + slack
	took := waitGARP(t, p.arps, killed, p.bLink.MAC(), 2*bound)
	t.Logf("%s killed: dir-b announced after %s (bound %s)", a.Name(), took, bound)
	if took > bound {
		t.Errorf("takeover took %s, bound %s", took, bound)
	}
	lvsdtest.WaitFor(t, 2*time.Second, "dir-b holds the VIP", func() bool { return holdsVIP(t, p.b) })

	// dir-a returns and preempts: the other implementation steps down.
	// (A killed daemon leaves the VIP on dir-a: only dir-b letting go and
	// dir-a's GARP show the takeover.)
	returned := time.Now()
	startA()
	lvsdtest.WaitFor(t, vrrp.MasterDown(v, 150, sa.interval)+5*time.Second, "dir-b gives the VIP up", func() bool { return !holdsVIP(t, p.b) })
	waitGARP(t, p.arps, returned, p.aLink.MAC(), 2*time.Second)
	if !holdsVIP(t, p.a) {
		t.Error("dir-a announced the VIP without holding it")
	}

	// Every advert keepalived sent was understood: no drop at the codec.
	s := lv.Instance()
	if s.AdvertsReceived == 0 {
		t.Error("lvsd received no advert from keepalived")
	}
	for _, r := range []string{"checksum", "length", "version", "auth", "ttl", "interval", "unknown_peer", "short"} {
		if n := s.Drops[r]; n > 0 {
			t.Errorf("lvsd dropped %d of keepalived's adverts as %q", n, r)
		}
	}
	t.Logf("lvsd: %d adverts received from keepalived, %d sent, drops %v", s.AdvertsReceived, s.AdvertsSent, s.Drops)
}
