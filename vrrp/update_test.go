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
		if err := hi.inst.Update(cfg, Change{}); err != nil {
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
		if err := a.inst.Update(cfg, Change{}); err != nil {
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
		if err := a.inst.Update(cfg, Change{}); !errors.Is(err, ErrReplace) {
			t.Errorf("VRID change: %v, want ErrReplace", err)
		}
	})
}

// A reload's new track_script weights take effect in a running instance:
// a failing script of weight -60 lowers the priority; made weight 0, it
// faults the instance.
func TestUpdateTrackScriptWeights(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		cfg := testConfig("A", 150)
		cfg.TrackScripts = []string{"proxy"}
		a := w.add(t, "192.0.2.11", cfg, map[string]TrackScript{"proxy": {Name: "proxy", Weight: -60}})
		time.Sleep(5 * time.Second)
		a.inst.SetScript("proxy", false)
		if s, _ := a.inst.Status(); s.Effective != 90 || s.State != Master {
			t.Fatalf("before reload: priority %d, %s", s.Effective, s.State)
		}
		if err := a.inst.Update(cfg, Change{TrackScripts: map[string]TrackScript{"proxy": {Name: "proxy", Weight: -20}}}); err != nil {
			t.Fatal(err)
		}
		if s, _ := a.inst.Status(); s.Effective != 130 {
			t.Errorf("weight -20 after reload: priority %d, want 130", s.Effective)
		}
		if err := a.inst.Update(cfg, Change{TrackScripts: map[string]TrackScript{"proxy": {Name: "proxy"}}}); err != nil {
			t.Fatal(err)
		}
		if a.state() != Fault {
			t.Errorf("weight 0 and failing after reload: %s, want FAULT", a.state())
		}
	})
}

// v2 carries no interval its backup could learn: a reloaded interval is
// adopted at once, so a pair reloaded to a longer interval does not flap.
func TestUpdateV2Interval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		v2 := func(name string, prio uint8) Config {
			c := testConfig(name, prio)
			c.Version = V2
			return c
		}
		hi := w.add(t, "192.0.2.11", v2("HI", 150), nil)
		lo := w.add(t, "192.0.2.12", v2("LO", 100), nil)
		time.Sleep(10 * time.Second)
		slow := func(c Config) Config { c.AdvertInterval = 5 * time.Second; return c }
		lo.inst.Update(slow(v2("LO", 100)), Change{})
		hi.inst.Update(slow(v2("HI", 150)), Change{})
		time.Sleep(60 * time.Second)
		if hi.state() != Master || lo.state() != Backup {
			t.Errorf("after reloading to 5s: HI %s, LO %s", hi.state(), lo.state())
		}
		lo.mu.Lock()
		n := len(lo.events)
		lo.mu.Unlock()
		if n != 1 { // INIT → BACKUP only
			t.Errorf("LO made %d transitions, want 1 (no flapping)", n)
		}
	})
}

// A fault while waiting out preempt_delay does not disable preemption for
// good.
func TestPreemptDelayAfterFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(5 * time.Second)
		cfg := testConfig("HI", 150)
		cfg.PreemptDelay = 10 * time.Second
		hi := w.add(t, "192.0.2.11", cfg, nil)
		time.Sleep(3 * time.Second)
		hi.inst.SetInterface("eth1", false)
		hi.inst.SetInterface("eth1", true)
		time.Sleep(20 * time.Second)
		if hi.state() != Master || lo.state() != Backup {
			t.Errorf("HI %s, LO %s; want HI to preempt after its delay", hi.state(), lo.state())
		}
	})
}
