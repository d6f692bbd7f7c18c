//go:build lab

package e2e

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/vrrp"
)

var vip6 = netip.MustParseAddr("2001:db8::100")

func holds6(t *testing.T, h *lab.Host) bool { return holds(t, h, vip6) }

// TestPairFailoverIPv6: a v3 pair over IPv6 (adverts from link-local
// addresses to ff02::12) elects one master, and on its death the backup
// takes over and its unsolicited neighbour advertisement moves the
// observer's entry for the VIP.
func TestPairFailoverIPv6(t *testing.T) {
	l := lab.New(t)
	nw := l.Network("lan6")
	a, b, obs := l.Host("dir-a"), l.Host("dir-b"), l.Host("obs")
	a.Connect(nw, netip.MustParsePrefix("2001:db8::11/64"))
	bLink := b.Connect(nw, netip.MustParsePrefix("2001:db8::12/64"))
	obs.Connect(nw, netip.MustParsePrefix("2001:db8::50/64"))
	cfg := func(prio int) string {
		return `
vrrp "VI_6" {
  interface         = "eth0"
  virtual_router_id = 61
  priority          = ` + map[int]string{150: "150", 100: "100"}[prio] + `
  advert_interval   = "500ms"
  virtual_ips       = ["2001:db8::100/64"]
}
`
	}
	// Link-local addresses must finish duplicate address detection before
	// they can send.
	lvsdtest.WaitFor(t, 5*time.Second, "link-local addresses usable", func() bool { return linkLocalReady(t, a) && linkLocalReady(t, b) })
	pa := lvsdtest.Start(t, a, cfg(150))
	pb := lvsdtest.Start(t, b, cfg(100))
	pa.WaitState("MASTER", 5*time.Second)
	pb.WaitState("BACKUP", time.Second)
	if !holds6(t, a) || holds6(t, b) {
		t.Fatalf("VIP held by dir-a %v, dir-b %v", holds6(t, a), holds6(t, b))
	}
	if m := pb.Instance().Master; !netip.MustParseAddr(m).IsLinkLocalUnicast() {
		t.Errorf("backup follows master %q, want dir-a's link-local address", m)
	}
	err := obs.Do(func() error {
		c, err := net.Dial("udp6", netip.AddrPortFrom(vip6, 9).String())
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("x"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	lvsdtest.WaitFor(t, 3*time.Second, "observer resolves the IPv6 VIP", func() bool { _, _, ok := obs.Neighbor(vip6); return ok })

	killed := time.Now()
	pa.Kill()
	pb.WaitState("MASTER", vrrp.MasterDown(vrrp.V3, 100, 500*time.Millisecond)+slack)
	t.Logf("IPv6: dir-b master %s after the kill", time.Since(killed))
	if !holds6(t, b) {
		t.Error("dir-b is master without the IPv6 VIP")
	}
	lvsdtest.WaitFor(t, 2*time.Second, "observer's entry for the IPv6 VIP moves to dir-b", func() bool {
		mac, _, _ := obs.Neighbor(vip6)
		return bytes.Equal(mac, bLink.MAC())
	})
	if d := pb.Instance().Drops; d["checksum"] > 0 || d["ttl"] > 0 || d["length"] > 0 {
		t.Errorf("drops %v", d)
	}
}

// linkLocalReady reports whether h's eth0 has a link-local address that
// is no longer tentative.
func linkLocalReady(t *testing.T, h *lab.Host) bool {
	addrs, _ := h.Addrs("eth0")
	for _, a := range addrs {
		if a.Prefix.Addr().IsLinkLocalUnicast() && !a.Tentative {
			return true
		}
	}
	return false
}

// TestKeepalivedInteropIPv6: lvsd and Debian's keepalived as a VRRPv3
// pair over IPv6, in both roles: each elects the same master, takes over
// when it is killed, and yields when it returns, with no advert of
// keepalived's dropped by lvsd's codec.
func TestKeepalivedInteropIPv6(t *testing.T) {
	for _, lvsdMaster := range []bool{true, false} {
		name := map[bool]string{true: "lvsd-master", false: "keepalived-master"}[lvsdMaster]
		t.Run(name, func(t *testing.T) { interop6(t, lvsdMaster) })
	}
}

func interop6(t *testing.T, lvsdMaster bool) {
	l := lab.New(t)
	nw := l.Network("lan6")
	a, b := l.Host("dir-a"), l.Host("dir-b")
	a.Connect(nw, netip.MustParsePrefix("2001:db8::11/64"))
	b.Connect(nw, netip.MustParsePrefix("2001:db8::12/64"))
	lvsdtest.WaitFor(t, 5*time.Second, "link-local addresses usable", func() bool { return linkLocalReady(t, a) && linkLocalReady(t, b) })
	const interval = 500 * time.Millisecond
	lvsdHCL := func(prio int) string {
		return fmt.Sprintf(`
vrrp "VI_6" {
  interface         = "eth0"
  virtual_router_id = 61
  priority          = %d
  advert_interval   = "500ms"
  virtual_ips       = ["2001:db8::100/64"]
}
`, prio)
	}
	kaConf := func(name string, prio int) string {
		return fmt.Sprintf(`global_defs {
  router_id %s
  vrrp_version 3
}
vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  virtual_router_id 61
  priority %d
  advert_int 0.5
  virtual_ipaddress {
    2001:db8::100/64
  }
}
`, name, prio)
	}
	var lv *lvsdtest.Daemon
	startA := func() router {
		if lvsdMaster {
			lv = lvsdtest.Start(t, a, lvsdHCL(150))
			return lv
		}
		return startKeepalived(t, a, kaConf("ka-a", 150))
	}
	master := startA()
	if lvsdMaster {
		startKeepalived(t, b, kaConf("ka-b", 100))
	} else {
		lv = lvsdtest.Start(t, b, lvsdHCL(100))
	}
	lvsdtest.WaitFor(t, 8*time.Second, "dir-a holds the IPv6 VIP", func() bool { return holds6(t, a) })
	time.Sleep(3 * interval)
	if holds6(t, b) {
		t.Fatal("both directors hold the IPv6 VIP")
	}
	if s, want := lv.State(), map[bool]string{true: "MASTER", false: "BACKUP"}[lvsdMaster]; s != want {
		t.Fatalf("lvsd is %s, want %s", s, want)
	}

	killed := time.Now()
	master.Kill()
	bound := vrrp.MasterDown(vrrp.V3, 100, interval) + slack
	lvsdtest.WaitFor(t, 2*bound, "dir-b takes the IPv6 VIP", func() bool { return holds6(t, b) })
	took := time.Since(killed)
	t.Logf("%s killed: dir-b holds the VIP after %s (bound %s)", master.Name(), took, bound)
	if took > bound {
		t.Errorf("takeover took %s, bound %s", took, bound)
	}

	startA()
	lvsdtest.WaitFor(t, vrrp.MasterDown(vrrp.V3, 150, interval)+5*time.Second, "dir-b gives the IPv6 VIP up", func() bool { return !holds6(t, b) })
	lvsdtest.WaitFor(t, 2*time.Second, "dir-a holds the IPv6 VIP again", func() bool { return holds6(t, a) })

	s := lv.Instance()
	if s.AdvertsReceived == 0 {
		t.Error("lvsd received no advert from keepalived")
	}
	if m := s.Master; !lvsdMaster && m != "" && !netip.MustParseAddr(m).IsLinkLocalUnicast() {
		t.Errorf("lvsd follows master %q, want keepalived's link-local address", m)
	}
	for _, r := range []string{"checksum", "length", "version", "auth", "ttl", "interval", "unknown_peer", "short"} {
		if n := s.Drops[r]; n > 0 {
			t.Errorf("lvsd dropped %d of keepalived's IPv6 adverts as %q", n, r)
		}
	}
	t.Logf("lvsd: %d adverts received from keepalived, %d sent, drops %v", s.AdvertsReceived, s.AdvertsSent, s.Drops)
}
