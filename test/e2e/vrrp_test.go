//go:build lab

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/vrrp"
)

// Failover bounds are the RFC's plus this slack: process scheduling on a
// loaded 2-core machine, the observer's capture, and the polling.
const slack = 400 * time.Millisecond

const advert = 500 * time.Millisecond

func instanceHCL(prio int, extra string) string {
	return fmt.Sprintf(`
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  advert_interval   = %q
  virtual_ips       = ["192.0.2.100/24"]
  garp {
    delay  = "2s"
    repeat = 2
  }
%s
}
`, prio, advert.String(), extra)
}

// TestPairFailover: election, unplanned and planned failover, each seen
// by the observer as a GARP from the new master and a moved neighbour
// entry.
func TestPairFailover(t *testing.T) {
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	b := lvsdtest.Start(t, p.b, instanceHCL(100, ""))

	// Election: the higher priority is master and alone holds the VIP.
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)
	if !holdsVIP(t, p.a) || holdsVIP(t, p.b) {
		t.Fatalf("VIP held by dir-a %v, dir-b %v; want dir-a only", holdsVIP(t, p.a), holdsVIP(t, p.b))
	}
	p.learnVIP()
	if mac := p.neighborMAC(); !bytes.Equal(mac, p.aLink.MAC()) {
		t.Fatalf("observer's VIP entry %s, want dir-a's %s", mac, p.aLink.MAC())
	}
	checkStatusCommand(t, a, b)

	// Unplanned: SIGKILL. dir-b takes over within master_down + slack of
	// the kill (the kill lands up to one advert after the last one, so
	// this bound is the RFC's, not looser).
	killed := time.Now()
	a.Kill()
	bound := vrrp.MasterDown(vrrp.V3, 100, advert) + slack
	took := waitGARP(t, p.arps, killed, p.bLink.MAC(), 2*bound)
	t.Logf("SIGKILL: first GARP from dir-b %s after the kill (bound 3×%s + skew + slack = %s)", took, advert, bound)
	if took > bound {
		t.Errorf("takeover took %s, bound %s", took, bound)
	}
	b.WaitState("MASTER", time.Second)
	lvsdtest.WaitFor(t, time.Second, "observer's VIP entry moves to dir-b", func() bool { return bytes.Equal(p.neighborMAC(), p.bLink.MAC()) })
	if !holdsVIP(t, p.b) {
		t.Error("dir-b is master without the VIP")
	}

	// dir-a returns with the higher priority and preempts.
	a = lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)
	lvsdtest.WaitFor(t, time.Second, "observer's VIP entry moves back to dir-a", func() bool { return bytes.Equal(p.neighborMAC(), p.aLink.MAC()) })
	if holdsVIP(t, p.b) {
		t.Error("dir-b kept the VIP after stepping down")
	}

	// Planned: SIGTERM sends priority 0; dir-b takes over after skew.
	stopped := time.Now()
	a.Terminate()
	if holdsVIP(t, p.a) {
		t.Error("dir-a still holds the VIP after SIGTERM")
	}
	bound = vrrp.Skew(vrrp.V3, 100, advert) + slack
	took = waitGARP(t, p.arps, stopped, p.bLink.MAC(), 5*time.Second)
	t.Logf("SIGTERM: first GARP from dir-b %s after the signal (bound skew + slack = %s)", took, bound)
	if took > bound {
		t.Errorf("planned takeover took %s, bound %s", took, bound)
	}
	lvsdtest.WaitFor(t, time.Second, "observer's VIP entry moves to dir-b", func() bool { return bytes.Equal(p.neighborMAC(), p.bLink.MAC()) })
}

// TestNoPreempt: with preempt = false, a returning higher priority router
// leaves the current master alone.
func TestNoPreempt(t *testing.T) {
	p := newPairLab(t)
	b := lvsdtest.Start(t, p.b, instanceHCL(100, ""))
	b.WaitState("MASTER", 5*time.Second)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, "  preempt = false"))
	a.WaitState("BACKUP", time.Second)
	// Several master_down intervals: nothing may change.
	time.Sleep(3 * vrrp.MasterDown(vrrp.V3, 150, advert))
	if a.State() != "BACKUP" || b.State() != "MASTER" {
		t.Fatalf("dir-a %s, dir-b %s; preempt = false must keep dir-b master", a.State(), b.State())
	}
	if s := a.Instance(); s.Master != "192.0.2.12" {
		t.Errorf("dir-a follows master %q, want 192.0.2.12", s.Master)
	}
}

// TestSplitBrainHeal: a silent partition (carrier stays up) makes two
// masters; the heal leaves one within one advert interval, and the
// remaining master re-announces the VIP.
func TestSplitBrainHeal(t *testing.T) {
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	b := lvsdtest.Start(t, p.b, instanceHCL(100, ""))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)

	p.bLink.Cut()
	b.WaitState("MASTER", vrrp.MasterDown(vrrp.V3, 100, advert)+2*slack)
	if a.State() != "MASTER" || !holdsVIP(t, p.a) || !holdsVIP(t, p.b) {
		t.Fatalf("cut link: dir-a %s; VIP on dir-a %v, dir-b %v; want two masters holding it", a.State(), holdsVIP(t, p.a), holdsVIP(t, p.b))
	}

	healed := time.Now()
	p.bLink.Heal()
	b.WaitState("BACKUP", advert+slack)
	took := time.Since(healed)
	t.Logf("split brain healed %s after the link came back (bound one advert interval %s + slack)", took, advert)
	if a.State() != "MASTER" || holdsVIP(t, p.b) {
		t.Errorf("after heal: dir-a %s, dir-b holds VIP %v", a.State(), holdsVIP(t, p.b))
	}
	lvsdtest.WaitFor(t, time.Second, "dir-a re-sends GARP after the heal", func() bool {
		_, ok := p.arps.First(healed, vip, p.aLink.MAC())
		return ok
	})
	if s := a.Instance(); s.Reasserts == 0 {
		t.Error("dir-a counted no re-assertion")
	}
}

// TestTrackedInterfaceFault: the master's tracked interface loses carrier;
// it goes to FAULT and dir-b takes over; carrier back, dir-a returns to
// BACKUP and preempts by the normal rules.
func TestTrackedInterfaceFault(t *testing.T) {
	p := newPairLab(t)
	uplink := p.a.Connect(p.lab.Network("uplink"), netip.MustParsePrefix("198.51.100.11/24"))
	a := lvsdtest.Start(t, p.a, instanceHCL(150, `  track_interfaces = ["eth1"]`))
	b := lvsdtest.Start(t, p.b, instanceHCL(100, ""))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)

	down := time.Now()
	uplink.Down()
	a.WaitState("FAULT", 2*time.Second)
	took := waitGARP(t, p.arps, down, p.bLink.MAC(), 3*time.Second)
	t.Logf("tracked interface down: dir-b announced after %s (dir-a resigned with priority 0: bound skew + slack)", took)
	if bound := vrrp.Skew(vrrp.V3, 100, advert) + slack; took > bound {
		t.Errorf("takeover took %s, bound %s", took, bound)
	}
	if s := a.Instance(); len(s.Faults) != 1 || s.Faults[0] != "tracked interface eth1 down" {
		t.Errorf("faults %q", s.Faults)
	}
	if holdsVIP(t, p.a) {
		t.Error("dir-a holds the VIP in FAULT")
	}

	uplink.Up()
	a.WaitState("MASTER", vrrp.MasterDown(vrrp.V3, 150, advert)+2*time.Second)
	b.WaitState("BACKUP", time.Second)
}

// checkStatusCommand runs `lvsd status` as an operator would, against the
// master a and the backup b.
func checkStatusCommand(t *testing.T, a, b *lvsdtest.Daemon) {
	t.Helper()
	if fi, err := os.Stat(a.Socket); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("control socket: %v, mode %v; want a socket with mode 0600", err, fi.Mode())
	}
	out, err := exec.Command(lvsdBin, "status", "-s", a.Socket).CombinedOutput()
	if err != nil {
		t.Fatalf("lvsd status: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"INSTANCE", "VI_1", "51", "eth0", "v3", "MASTER", "150", "192.0.2.11", "500ms", "192.0.2.100/24", "BACKUP → MASTER", "no advert from a master"} {
		if !strings.Contains(text, want) {
			t.Errorf("lvsd status lacks %q:\n%s", want, text)
		}
	}
	out, err = exec.Command(lvsdBin, "status", "--json", "-s", b.Socket).CombinedOutput()
	if err != nil {
		t.Fatalf("lvsd status --json: %v\n%s", err, out)
	}
	var s struct {
		Instances []struct {
			State             string                  `json:"state"`
			Master            string                  `json:"master"`
			MasterInterval    string                  `json:"master_interval"`
			Priority          int                     `json:"priority"`
			EffectivePriority int                     `json:"effective_priority"`
			VIPs              []string                `json:"vips"`
			AdvertsReceived   uint64                  `json:"adverts_received"`
			LastTransition    struct{ To, At string } `json:"last_transition"`
			Drops             map[string]uint64       `json:"drops"`
		} `json:"instances"`
	}
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("lvsd status --json: %v\n%s", err, out)
	}
	in := s.Instances[0]
	if in.State != "BACKUP" || in.Master != "192.0.2.11" || in.MasterInterval != "500ms" || in.Priority != 100 ||
		in.EffectivePriority != 100 || len(in.VIPs) != 0 || in.AdvertsReceived == 0 || in.LastTransition.To != "BACKUP" ||
		in.LastTransition.At == "" || in.Drops == nil {
		t.Errorf("backup's status: %s", out)
	}
	if _, err := exec.Command(lvsdBin, "status", "-s", filepath.Join(t.TempDir(), "none.sock")).CombinedOutput(); err == nil {
		t.Error("lvsd status exits 0 with no daemon")
	}
}

// TestOwnInterfaceDown: the master's own VRRP interface loses carrier; it
// goes to FAULT without being told to track it (as keepalived does), the
// peer takes over, and on carrier the master preempts back.
func TestOwnInterfaceDown(t *testing.T) {
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	b := lvsdtest.Start(t, p.b, instanceHCL(100, ""))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)
	p.aLink.Down()
	a.WaitState("FAULT", 2*time.Second)
	if s := a.Instance(); len(s.Faults) != 1 || s.Faults[0] != "tracked interface eth0 down" || len(s.VIPs) != 0 {
		t.Errorf("dir-a faults %q, VIPs %q", s.Faults, s.VIPs)
	}
	b.WaitState("MASTER", vrrp.MasterDown(vrrp.V3, 100, advert)+slack)
	p.aLink.Up()
	a.WaitState("MASTER", vrrp.MasterDown(vrrp.V3, 150, advert)+3*time.Second)
	b.WaitState("BACKUP", time.Second)
}

// TestRecreatedInterface: the backup's VRRP interface (a macvlan, as a
// VLAN or bond would be) is deleted and created again under its name with
// a new index. lvsd reopens its socket on the new link: it hears the
// master and stays BACKUP, and once master its adverts reach the peer.
// A socket left on the old index would be deaf (a second master) and mute;
// the new address is the one dir-a then speaks from.
func TestRecreatedInterface(t *testing.T) {
	p := newPairLab(t)
	mv := netip.MustParsePrefix("192.0.2.21/24")
	makeMacvlan(t, p.a, mv)
	a := lvsdtest.Start(t, p.a, strings.Replace(instanceHCL(100, ""), `"eth0"`, `"vrrp0"`, 1))
	b := lvsdtest.Start(t, p.b, instanceHCL(150, ""))
	b.WaitState("MASTER", 5*time.Second)
	a.WaitState("BACKUP", time.Second)

	before := linkIndex(t, p.a, "vrrp0")
	deleteLink(t, p.a, "vrrp0")
	a.WaitState("FAULT", 2*time.Second)
	renumbered := netip.MustParsePrefix("192.0.2.22/24") // rebuilt with another address
	makeMacvlan(t, p.a, renumbered)
	if after := linkIndex(t, p.a, "vrrp0"); after == before {
		t.Fatalf("the new vrrp0 has the old index %d", after)
	}
	a.WaitState("BACKUP", 2*time.Second)

	// Hearing: dir-a stays BACKUP well past its master_down.
	down := vrrp.MasterDown(vrrp.V3, 100, advert)
	received := a.Instance().AdvertsReceived
	for end := time.Now().Add(2 * down); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if s := a.State(); s != "BACKUP" {
			t.Fatalf("dir-a became %s on its recreated interface: it cannot hear the master", s)
		}
	}
	if got := a.Instance().AdvertsReceived; got <= received {
		t.Errorf("dir-a received %d adverts, before the %s wait %d", got, 2*down, received)
	}

	// Sending: dir-a takes over, and a new dir-b of lower priority hears
	// it and stays BACKUP.
	b.Terminate()
	a.WaitState("MASTER", time.Second)
	b = lvsdtest.Start(t, p.b, instanceHCL(50, ""))
	b.WaitState("BACKUP", 2*time.Second)
	for end := time.Now().Add(2 * vrrp.MasterDown(vrrp.V3, 50, advert)); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if s := b.State(); s != "BACKUP" {
			t.Fatalf("dir-b became %s: dir-a's adverts from the recreated interface do not reach it", s)
		}
	}
	if m := b.Instance().Master; m != renumbered.Addr().String() {
		t.Errorf("dir-b follows master %s, want dir-a's new address %s", m, renumbered.Addr())
	}
	if !strings.Contains(a.Output(), "VRRP socket reopened") {
		t.Errorf("dir-a did not log the reopen:\n%s", a.Output())
	}
}

// makeMacvlan adds vrrp0, a bridge-mode macvlan on eth0, with addr, up.
func makeMacvlan(t *testing.T, h *lab.Host, addr netip.Prefix) {
	t.Helper()
	err := h.Do(func() error {
		parent, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		mv := &netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: "vrrp0", ParentIndex: parent.Attrs().Index}, Mode: netlink.MACVLAN_MODE_BRIDGE}
		if err := netlink.LinkAdd(mv); err != nil {
			return err
		}
		ipn := &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), 32)}
		if err := netlink.AddrAdd(mv, &netlink.Addr{IPNet: ipn}); err != nil {
			return err
		}
		return netlink.LinkSetUp(mv)
	})
	if err != nil {
		t.Fatalf("macvlan on %s: %v", h.Name(), err)
	}
}

func deleteLink(t *testing.T, h *lab.Host, name string) {
	t.Helper()
	err := h.Do(func() error {
		link, err := netlink.LinkByName(name)
		if err != nil {
			return err
		}
		return netlink.LinkDel(link)
	})
	if err != nil {
		t.Fatalf("deleting %s on %s: %v", name, h.Name(), err)
	}
}

func linkIndex(t *testing.T, h *lab.Host, name string) (index int) {
	t.Helper()
	err := h.Do(func() error {
		link, err := netlink.LinkByName(name)
		if err == nil {
			index = link.Attrs().Index
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return index
}
