//go:build lab

package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/lvsd/lvsd/internal/control"
	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/vrrp"
)

// manyVIPsHCL is instanceHCL's instance with n VIPs: the usual VIP first,
// then /32s from 10.99.0.1 upwards.
func manyVIPsHCL(prio, n int) string {
	vips := []string{`"192.0.2.100/24"`}
	ip := netip.MustParseAddr("10.99.0.1")
	for len(vips) < n {
		vips = append(vips, fmt.Sprintf("%q", ip.String()+"/32"))
		ip = ip.Next()
	}
	return strings.Replace(instanceHCL(prio, ""), `["192.0.2.100/24"]`, "[\n    "+strings.Join(vips, ",\n    ")+"\n  ]", 1)
}

// TestManyVIPsOneMaster (finding 2): a pair whose instance has 300 VIPs,
// more than an advert's 8-bit count lists. lvsd check warns and exits 0;
// the master advertises (the first 255 listed) and holds all 300; the
// backup stays backup; the observer sees the takeover burst and the
// garp.delay burst, no more. Before, no advert could be encoded: both
// hosts became master and every advert heard set off another burst.
func TestManyVIPsOneMaster(t *testing.T) {
	const n = 300
	p := newPairLab(t)
	hclA := manyVIPsHCL(150, n)
	a := lvsdtest.Start(t, p.a, hclA)
	out, err := exec.Command(lvsdBin, "check", "-c", a.Config).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "warning: Only the first 255 of 300 virtual IPs are advertised") {
		t.Errorf("lvsd check: %v\n%s\nwant exit 0 and the warning", err, out)
	}
	started := time.Now()
	b := lvsdtest.Start(t, p.b, manyVIPsHCL(100, n))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", 2*time.Second)

	// Watch for a split brain over 3 master_downs of dir-b.
	watch := 3 * vrrp.MasterDown(vrrp.V3, 100, advert)
	for end := time.Now().Add(watch); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if s := b.State(); s != "BACKUP" {
			t.Fatalf("dir-b became %s while dir-a is master: split brain", s)
		}
	}
	last := netip.MustParseAddr("10.99.0.1")
	for range n - 2 {
		last = last.Next()
	}
	for _, ip := range []netip.Addr{vip, last} {
		if !holds(t, p.a, ip) || holds(t, p.b, ip) {
			t.Errorf("%s held by dir-a %t, dir-b %t; want dir-a only", ip, holds(t, p.a, ip), holds(t, p.b, ip))
		}
	}
	ia, ib := a.Instance(), b.Instance()
	if ia.AdvertsSent == 0 || ia.Drops["send_error"] != 0 || ib.AdvertsReceived == 0 {
		t.Errorf("dir-a sent %d adverts (%d send errors), dir-b received %d; want adverts flowing",
			ia.AdvertsSent, ia.Drops["send_error"], ib.AdvertsReceived)
	}
	if len(ia.VIPs) != n {
		t.Errorf("dir-a's status lists %d VIPs, want %d", len(ia.VIPs), n)
	}
	// garp.delay is 2 s and repeat 2: the VIP is announced at most twice
	// per burst, in two bursts (dir-a may have become master before
	// dir-b started: count from dir-a's start).
	got := p.arps.Count(started.Add(-5*time.Second), vip)
	t.Logf("%d VIPs: dir-a sent %d adverts, dir-b received %d; the observer saw %d GARPs for %s", n, ia.AdvertsSent, ib.AdvertsReceived, got, vip)
	if got > 2*2 {
		t.Errorf("the observer saw %d GARPs for %s, want at most 4 (two bursts of 2)", got, vip)
	}
}

// setAdminState sets interface name of h administratively up or down
// (`ip link set NAME up|down` on the host), unlike lab.Link.Down, which
// takes the carrier away at the switch.
func setAdminState(t *testing.T, h *lab.Host, name string, up bool) {
	t.Helper()
	err := h.Do(func() error {
		link, err := netlink.LinkByName(name)
		if err != nil {
			return err
		}
		if up {
			return netlink.LinkSetUp(link)
		}
		return netlink.LinkSetDown(link)
	})
	if err != nil {
		t.Fatalf("setting %s on %s up=%t: %v", name, h.Name(), up, err)
	}
}

// TestGARPAfterLinkFlap (finding 4): dir-a has announced the VIP once
// (its ARP socket is open), then its link goes down and up, which leaves
// a pending ENETDOWN on that socket. At its next takeover the first GARP
// must still go out at once, not garp.delay (5 s) later: the announcer
// reopens the socket and sends again.
func TestGARPAfterLinkFlap(t *testing.T) {
	p := newPairLab(t)
	hcl := strings.Replace(instanceHCL(100, ""), `delay  = "2s"`, `delay  = "5s"`, 1)
	a := lvsdtest.Start(t, p.a, hcl)
	a.WaitState("MASTER", 5*time.Second)
	waitGARP(t, p.arps, time.Now().Add(-5*time.Second), p.aLink.MAC(), 2*time.Second)

	b := lvsdtest.Start(t, p.b, strings.Replace(instanceHCL(150, ""), `delay  = "2s"`, `delay  = "5s"`, 1))
	b.WaitState("MASTER", 5*time.Second)
	a.WaitState("BACKUP", 2*time.Second)

	setAdminState(t, p.a, p.aLink.Name(), false)
	a.WaitState("FAULT", 2*time.Second)
	setAdminState(t, p.a, p.aLink.Name(), true)
	a.WaitState("BACKUP", 5*time.Second)

	// dir-b resigns: dir-a takes over after its skew.
	t0 := time.Now()
	b.Terminate()
	bound := vrrp.Skew(vrrp.V3, 100, advert) + slack
	took := waitGARP(t, p.arps, t0, p.aLink.MAC(), 10*time.Second)
	a.WaitState("MASTER", time.Second)
	var sinceMaster time.Duration
	if tr := a.Instance().LastTransition; tr != nil {
		at, _ := p.arps.First(t0, vip, p.aLink.MAC())
		sinceMaster = at.Sub(tr.At)
	}
	t.Logf("first GARP from dir-a %s after dir-b resigned, %s after dir-a became master (bound skew + slack = %s; garp.delay 5s)",
		took, sinceMaster, bound)
	if took > bound {
		t.Errorf("first GARP %s after the resignation, bound %s: the takeover burst was lost", took, bound)
	}
	if strings.Contains(a.Output(), "announcing virtual IPs") {
		t.Errorf("dir-a logged a failed announcement:\n%s", a.Output())
	}
}

// sendAdverts sends count VRRP adverts for vrid from h (192.0.2.12) to
// dst over a raw socket, as a host on the segment can.
func sendAdverts(t *testing.T, h *lab.Host, dst netip.Addr, vrid uint8, count int) {
	t.Helper()
	src := dirBIP.Addr()
	ad := &vrrp.Advert{Version: vrrp.V3, VRID: vrid, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{vip}}
	b, err := ad.Marshal(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	err = h.Do(func() error {
		c, err := net.ListenPacket("ip4:112", src.String())
		if err != nil {
			return err
		}
		defer c.Close()
		for range count {
			if _, err := c.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("sending adverts from %s: %v", h.Name(), err)
	}
}

// TestSocketDropsCounted (finding 10): adverts for a VRID nobody runs
// here are counted per socket in status; so are the packets the kernel
// drops while lvsd cannot read (SIGSTOP, then a flood fills the raw
// socket's receive buffer).
func TestSocketDropsCounted(t *testing.T) {
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	a.WaitState("MASTER", 5*time.Second)
	socket := func() control.Socket {
		s, err := a.Status()
		if err != nil || len(s.Sockets) != 1 {
			t.Fatalf("status: %v, sockets %+v; want one socket", err, s)
		}
		return s.Sockets[0]
	}
	if s := socket(); s.Interface != "eth0" || s.Family != "ipv4" || s.UnknownVRID != 0 || s.KernelDrops != 0 || s.KernelDropsError != "" {
		t.Fatalf("socket at start %+v; want eth0 ipv4 with nothing counted", s)
	}

	const unknown = 20
	sendAdverts(t, p.b, dirAIP.Addr(), 77, unknown)
	lvsdtest.WaitFor(t, 2*time.Second, "dir-a counts the adverts for VRID 77", func() bool { return socket().UnknownVRID == unknown })

	const flood = 5000
	a.Signal(syscall.SIGSTOP)
	sendAdverts(t, p.b, dirAIP.Addr(), 77, flood)
	a.Signal(syscall.SIGCONT)
	var s control.Socket
	lvsdtest.WaitFor(t, 5*time.Second, "dir-a counts kernel drops", func() bool { s = socket(); return s.KernelDrops > 0 })
	time.Sleep(500 * time.Millisecond) // lvsd reads what the buffer held
	s = socket()
	t.Logf("after a flood of %d while stopped: %d read as unknown VRID, %d dropped by the kernel", flood, s.UnknownVRID-unknown, s.KernelDrops)
	if total := s.UnknownVRID + s.KernelDrops; total > unknown+flood {
		t.Errorf("%d unknown + %d kernel drops > the %d sent", s.UnknownVRID, s.KernelDrops, unknown+flood)
	}
	if st := a.State(); st != "MASTER" {
		t.Errorf("dir-a is %s after the flood, want MASTER", st)
	}
}
