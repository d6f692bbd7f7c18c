package vrrp

import (
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

// A reload that leaves priority and VIPs alone changes nothing a peer or
// the link can see: no transition, no announcement, no extra advert.
func TestUpdateKeepsMasterQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		hi := w.add(t, "192.0.2.11", testConfig("HI", 150), nil)
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(10*time.Second + 100*time.Millisecond)
		hi.mu.Lock()
		events, sent := len(hi.events), len(hi.sent)
		hi.mu.Unlock()
		announced := len(hi.announcements())
		cfg := testConfig("HI", 150)
		cfg.Notify.Master = []string{"/bin/true"} // a change nobody on the wire sees
		if err := hi.inst.Update(cfg, nil); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		hi.mu.Lock()
		eventsNow, sentNow := len(hi.events), len(hi.sent)
		hi.mu.Unlock()
		if eventsNow != events || len(hi.announcements()) != announced || sentNow != sent {
			t.Errorf("update: %d→%d events, %d→%d announcements, %d→%d adverts; want none", events, eventsNow, announced, len(hi.announcements()), sent, sentNow)
		}
		time.Sleep(5 * time.Second)
		if hi.state() != Master || lo.state() != Backup {
			t.Errorf("after update: HI %s, LO %s", hi.state(), lo.state())
		}
	})
}

// A VIP added to a master is added and announced alone; a removed one
// is removed.
func TestUpdateVIPsWhileMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		a := w.add(t, "192.0.2.11", testConfig("A", 255), nil)
		synctest.Wait()
		extra := netip.MustParsePrefix("192.0.2.101/24")
		cfg := testConfig("A", 255)
		cfg.VIPs = []netip.Prefix{extra} // 192.0.2.100 out, .101 in
		var ann announceSpy
		a.mu.Lock()
		a.spy = &ann
		a.mu.Unlock()
		if err := a.inst.Update(cfg, nil); err != nil {
			t.Fatal(err)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.vips[vipPrefix] || !a.vips[extra] {
			t.Errorf("VIPs held %v; want only %s", a.vips, extra)
		}
		if len(ann.ips) != cfg.GARP.Repeat || ann.ips[0][0] != extra.Addr() || len(ann.ips[0]) != 1 {
			t.Errorf("announced %v; want only %s, %d times", ann.ips, extra.Addr(), cfg.GARP.Repeat)
		}
	})
}

func TestUpdateRefusesIdentityChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		a := w.add(t, "192.0.2.11", testConfig("A", 100), nil)
		cfg := testConfig("A", 100)
		cfg.VRID = 52
		if err := a.inst.Update(cfg, nil); !errors.Is(err, ErrReplace) {
			t.Errorf("VRID change: %v, want ErrReplace", err)
		}
	})
}
