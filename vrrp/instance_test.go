package vrrp

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// The formulas of RFC 5798 §6.1 and RFC 3768 §6.1, worked by hand.
func TestTimers(t *testing.T) {
	cases := []struct {
		v              Version
		prio           uint8
		interval       time.Duration
		skew, masterDn time.Duration
	}{
		{V3, 100, time.Second, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{V3, 150, time.Second, 414062500 * time.Nanosecond, 3414062500 * time.Nanosecond},
		{V3, 200, 100 * time.Millisecond, 21875 * time.Microsecond, 321875 * time.Microsecond},
		{V3, 255, time.Second, 3906250 * time.Nanosecond, 3003906250 * time.Nanosecond},
		{V2, 100, 2 * time.Second, 609375 * time.Microsecond, 6609375 * time.Microsecond},
	}
	for _, c := range cases {
		if got := Skew(c.v, c.prio, c.interval); got != c.skew {
			t.Errorf("Skew(%s, %d, %s) = %s, want %s", c.v, c.prio, c.interval, got, c.skew)
		}
		if got := MasterDown(c.v, c.prio, c.interval); got != c.masterDn {
			t.Errorf("MasterDown(%s, %d, %s) = %s, want %s", c.v, c.prio, c.interval, got, c.masterDn)
		}
	}
}

// A lone backup becomes master exactly Master_Down_Interval after start,
// adds its VIPs and announces them.
func TestLoneBackupBecomesMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		w := &wire{}
		a := w.add(t, "192.0.2.11", testConfig("A", 100), nil)
		synctest.Wait()
		if s := a.state(); s != Backup {
			t.Fatalf("at start: %s, want BACKUP", s)
		}
		time.Sleep(MasterDown(V3, 100, time.Second) + time.Millisecond)
		ev := a.lastEvent()
		if ev.To != Master || ev.At.Sub(start) != 3609375*time.Microsecond {
			t.Errorf("became %s after %s, want MASTER after 3.609375s", ev.To, ev.At.Sub(start))
		}
		if !a.holds() {
			t.Error("master does not hold its VIP")
		}
		if got := len(a.announcements()); got != 2 {
			t.Errorf("%d announcements, want garp.repeat = 2", got)
		}
		// The second burst comes garp.delay later.
		time.Sleep(5 * time.Second)
		if got := len(a.announcements()); got != 4 {
			t.Errorf("%d announcements after garp.delay, want 4", got)
		}
	})
}

// The owner (priority 255) takes over at once.
func TestOwnerStartsAsMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		a := w.add(t, "192.0.2.11", testConfig("A", 255), nil)
		synctest.Wait()
		if s := a.state(); s != Master {
			t.Errorf("owner at start: %s, want MASTER", s)
		}
	})
}

func TestElectionAndFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		hi := w.add(t, "192.0.2.11", testConfig("HI", 150), nil)
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(10 * time.Second)
		if hi.state() != Master || lo.state() != Backup {
			t.Fatalf("HI %s, LO %s; want MASTER, BACKUP", hi.state(), lo.state())
		}
		if !hi.holds() || lo.holds() {
			t.Fatalf("VIP held by HI %v, LO %v; want HI only", hi.holds(), lo.holds())
		}

		// Unplanned: the master vanishes right after an advert. The backup
		// takes over Master_Down_Interval after that last advert.
		hi.kill()
		lastAdvert := hi.lastSent()
		time.Sleep(5 * time.Second)
		ev := lo.lastEvent()
		if ev.To != Master {
			t.Fatalf("LO is %s after the master died", lo.state())
		}
		if got, want := ev.At.Sub(lastAdvert), MasterDown(V3, 100, time.Second); got != want {
			t.Errorf("takeover %s after the last advert, want master_down %s", got, want)
		}
	})
}

// A master that stops sends priority 0; the backup takes over after
// Skew_Time only (RFC 5798 §6.4.2).
func TestGracefulStopTakesSkewOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		hi := w.add(t, "192.0.2.11", testConfig("HI", 150), nil)
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(10*time.Second + 300*time.Millisecond)
		stopped := time.Now()
		hi.stop()
		if hi.holds() {
			t.Error("stopped master still holds its VIP")
		}
		time.Sleep(2 * time.Second)
		ev := lo.lastEvent()
		if ev.To != Master {
			t.Fatalf("LO is %s after the master stopped", lo.state())
		}
		if got, want := ev.At.Sub(stopped), Skew(V3, 100, time.Second); got != want {
			t.Errorf("takeover %s after the stop, want skew %s", got, want)
		}
	})
}

// With preempt = false the running master keeps the role when a higher
// priority router arrives; with preempt it loses it after master_down.
func TestPreempt(t *testing.T) {
	for _, preempt := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			w := &wire{}
			lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
			time.Sleep(5 * time.Second)
			cfg := testConfig("HI", 150)
			cfg.Preempt = preempt
			hi := w.add(t, "192.0.2.11", cfg, nil)
			time.Sleep(10 * time.Second)
			want := map[bool][2]State{false: {Backup, Master}, true: {Master, Backup}}[preempt]
			if got := [2]State{hi.state(), lo.state()}; got != want {
				t.Errorf("preempt=%v: HI %s, LO %s; want %s, %s", preempt, got[0], got[1], want[0], want[1])
			}
		})
	}
}

// preempt_delay holds the preemption back for that long after a lower
// priority master is first seen.
func TestPreemptDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(5 * time.Second)
		cfg := testConfig("HI", 150)
		cfg.PreemptDelay = 20 * time.Second
		joined := time.Now()
		hi := w.add(t, "192.0.2.11", cfg, nil)
		time.Sleep(15 * time.Second)
		if hi.state() != Backup {
			t.Fatalf("HI is %s within preempt_delay", hi.state())
		}
		time.Sleep(10 * time.Second)
		ev := hi.lastEvent()
		if ev.To != Master {
			t.Fatalf("HI is %s after preempt_delay", hi.state())
		}
		// The first advert from LO arrives within one interval of joining.
		if d := ev.At.Sub(joined); d < 20*time.Second || d > 21*time.Second {
			t.Errorf("preempted %s after joining, want 20s..21s", d)
		}
		synctest.Wait()
		if lo.state() != Backup {
			t.Errorf("LO is %s", lo.state())
		}
	})
}

// Equal priorities: the higher primary address wins.
func TestEqualPriorityHigherAddressWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		a := w.add(t, "192.0.2.11", testConfig("A", 100), nil)
		b := w.add(t, "192.0.2.12", testConfig("B", 100), nil)
		time.Sleep(10 * time.Second)
		if a.state() != Backup || b.state() != Master {
			t.Errorf("192.0.2.11 %s, 192.0.2.12 %s; want BACKUP, MASTER", a.state(), b.state())
		}
	})
}

// A v3 backup adopts the master's advert interval for master_down.
func TestBackupAdoptsMasterInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		hcfg := testConfig("HI", 150)
		hcfg.AdvertInterval = 100 * time.Millisecond
		hi := w.add(t, "192.0.2.11", hcfg, nil)
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil) // configured 1s
		time.Sleep(5 * time.Second)
		s, _ := lo.inst.Status()
		if s.MasterInterval != 100*time.Millisecond {
			t.Fatalf("backup's master interval %s, want the master's 100ms", s.MasterInterval)
		}
		hi.kill()
		last := hi.lastSent()
		time.Sleep(2 * time.Second)
		if got, want := lo.lastEvent().At.Sub(last), MasterDown(V3, 100, 100*time.Millisecond); got != want {
			t.Errorf("takeover after %s, want %s (from the master's interval)", got, want)
		}
	})
}

// A cut link makes two masters; on heal the lower one steps down within
// one advert interval and the winner re-announces its VIPs.
func TestSplitBrainHeals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		hi := w.add(t, "192.0.2.11", testConfig("HI", 150), nil)
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(10 * time.Second)
		lo.setCut(true)
		time.Sleep(5 * time.Second)
		if hi.state() != Master || lo.state() != Master {
			t.Fatalf("cut link: HI %s, LO %s; want two masters", hi.state(), lo.state())
		}
		before := len(hi.announcements())
		lo.setCut(false)
		healed := time.Now()
		time.Sleep(time.Second)
		ev := lo.lastEvent()
		if lo.state() != Backup || hi.state() != Master {
			t.Fatalf("after heal: HI %s, LO %s", hi.state(), lo.state())
		}
		if d := ev.At.Sub(healed); d > time.Second {
			t.Errorf("healed after %s, want within one advert interval", d)
		}
		if len(hi.announcements()) <= before {
			t.Error("the remaining master did not re-announce its VIPs")
		}
		s, _ := hi.inst.Status()
		if s.Reasserts == 0 {
			t.Error("no re-assertion counted")
		}
	})
}

// When the winner's advert reaches the loser first after a split brain,
// the loser resigns with priority 0, so the winner still re-announces.
func TestSplitBrainHealWinnerSpeaksFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		hi := w.add(t, "192.0.2.11", testConfig("HI", 150), nil)
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(10 * time.Second)
		lo.setCut(true)
		time.Sleep(5 * time.Second)
		// Heal just before HI's next advert and well before LO's.
		next := hi.lastSent().Add(time.Second)
		time.Sleep(time.Until(next) - time.Millisecond)
		before := len(hi.announcements())
		lo.setCut(false)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if lo.state() != Backup {
			t.Fatalf("LO %s right after HI's advert", lo.state())
		}
		if len(hi.announcements()) <= before {
			t.Error("HI did not re-announce after LO resigned")
		}
	})
}

// A tracked interface going down moves the master to Fault (resigning
// with priority 0); the peer takes over after skew; back up, the instance
// returns as backup and preempts by the normal rules.
func TestTrackedInterfaceFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		cfg := testConfig("HI", 150)
		cfg.TrackInterfaces = []string{"eth1"}
		hi := w.add(t, "192.0.2.11", cfg, nil)
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(10*time.Second + 500*time.Millisecond)
		down := time.Now()
		hi.inst.SetInterface("eth1", false)
		if hi.state() != Fault || hi.holds() {
			t.Fatalf("HI %s holding %v; want FAULT without the VIP", hi.state(), hi.holds())
		}
		time.Sleep(2 * time.Second)
		if ev := lo.lastEvent(); ev.To != Master || ev.At.Sub(down) != Skew(V3, 100, time.Second) {
			t.Errorf("LO %s after %s; want MASTER after skew", ev.To, ev.At.Sub(down))
		}
		s, _ := hi.inst.Status()
		if len(s.Faults) != 1 || s.Faults[0] != "tracked interface eth1 down" {
			t.Errorf("faults %q", s.Faults)
		}
		hi.inst.SetInterface("eth1", true)
		if hi.state() != Backup {
			t.Fatalf("HI %s after the interface came back, want BACKUP", hi.state())
		}
		time.Sleep(5 * time.Second)
		if hi.state() != Master || lo.state() != Backup {
			t.Errorf("HI %s, LO %s; want HI to preempt again", hi.state(), lo.state())
		}
	})
}

// A socket that cannot read faults its backup, which would otherwise take
// over from a master it cannot hear; once it reads again, the backup
// returns and hears the master.
func TestSocketFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		hi := w.add(t, "192.0.2.11", testConfig("HI", 150), nil)
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(10 * time.Second)
		lo.inst.SocketFault(errors.New("read: ENETDOWN"))
		s, _ := lo.inst.Status()
		if s.State != Fault || len(s.Faults) != 1 || s.Faults[0] != "VRRP socket failing: read: ENETDOWN" {
			t.Fatalf("LO %s, faults %q; want FAULT naming the socket error", s.State, s.Faults)
		}
		time.Sleep(10 * time.Second)
		if lo.state() != Fault || hi.state() != Master {
			t.Errorf("LO %s, HI %s while LO is deaf; want FAULT and MASTER", lo.state(), hi.state())
		}
		lo.inst.SocketFault(nil)
		time.Sleep(10 * time.Second)
		if lo.state() != Backup || hi.state() != Master {
			t.Errorf("LO %s, HI %s after the socket reads again; want BACKUP and MASTER", lo.state(), hi.state())
		}
	})
}

// Track scripts: weight 0 faults; other weights move the priority and so
// the mastership.
func TestTrackScripts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scripts := map[string]TrackScript{"proxy": {Name: "proxy", Weight: -60}, "must": {Name: "must"}}
		w := &wire{}
		cfg := testConfig("HI", 150)
		cfg.TrackScripts = []string{"proxy", "must"}
		hi := w.add(t, "192.0.2.11", cfg, scripts)
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(10 * time.Second)
		hi.inst.SetScript("proxy", false) // 150 - 60 = 90 < 100
		time.Sleep(10 * time.Second)
		s, _ := hi.inst.Status()
		if s.Effective != 90 || hi.state() != Backup || lo.state() != Master {
			t.Fatalf("effective %d, HI %s, LO %s; want 90, BACKUP, MASTER", s.Effective, hi.state(), lo.state())
		}
		hi.inst.SetScript("proxy", true)
		hi.inst.SetScript("must", false)
		if hi.state() != Fault {
			t.Errorf("weight-0 script failing: %s, want FAULT", hi.state())
		}
	})
}

// A backup starting on a host where a killed daemon left the VIPs removes
// them: two hosts must not answer ARP for a VIP.
func TestStartupRemovesStaleVIPs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		hi := w.add(t, "192.0.2.11", testConfig("HI", 150), nil)
		time.Sleep(5 * time.Second)
		leftBehind := func(n *node) { n.vips[vipPrefix] = true }
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil, leftBehind)
		synctest.Wait()
		if lo.state() != Backup || lo.holds() {
			t.Errorf("LO %s holding the VIP %v; want BACKUP without it", lo.state(), lo.holds())
		}
		if !hi.holds() {
			t.Error("HI lost its VIP")
		}
	})
}

// garp.refresh re-announces the VIPs periodically while master, and
// stops when the instance leaves master.
func TestGARPRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		cfg := testConfig("A", 255) // owner: master at once
		cfg.GARP = GARP{Repeat: 1, Refresh: 10 * time.Second}
		a := w.add(t, "192.0.2.11", cfg, nil)
		time.Sleep(35 * time.Second)
		if got := len(a.announcements()); got != 4 { // t = 0, 10, 20, 30
			t.Errorf("%d announcements in 35s, want 4", got)
		}
		a.inst.SetInterface("eth1", false) // FAULT: no more refreshes
		time.Sleep(30 * time.Second)
		if got := len(a.announcements()); got != 4 {
			t.Errorf("%d announcements after leaving master, want still 4", got)
		}
	})
}

// A send that fails does not abandon the rest of a GARP burst: the next
// repeat may go through (finding 4: a flapped link's first send fails).
func TestGARPBurstGoesOnPastAFailedSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		cfg := testConfig("A", 150)
		cfg.GARP.Repeat = 3
		a := w.add(t, "192.0.2.11", cfg, nil, func(n *node) { n.announceFails = 1 })
		time.Sleep(MasterDown(V3, 150, time.Second) + time.Millisecond)
		synctest.Wait()
		if a.state() != Master {
			t.Fatalf("A is %s", a.state())
		}
		if got := len(a.announcements()); got != 2 {
			t.Errorf("%d announcements after one failed send of a burst of 3; want the other 2", got)
		}
	})
}
