package vrrp

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// A drill hands mastership to the backup after skew, holds it there for
// hold, then preempts back by the normal rules.
func TestStepDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		hi := w.add(t, "192.0.2.11", testConfig("HI", 150), nil)
		lo := w.add(t, "192.0.2.12", testConfig("LO", 100), nil)
		time.Sleep(10 * time.Second)
		if err := lo.inst.StepDown(time.Minute); !errors.Is(err, ErrNotMaster) {
			t.Errorf("backup stepping down: %v, want ErrNotMaster", err)
		}
		start := time.Now()
		if err := hi.inst.StepDown(30 * time.Second); err != nil {
			t.Fatal(err)
		}
		if hi.holds() {
			t.Error("HI still holds the VIP after stepping down")
		}
		time.Sleep(time.Second)
		if ev := lo.lastEvent(); ev.To != Master || ev.At.Sub(start) != Skew(V3, 100, time.Second) {
			t.Errorf("LO %s after %s; want MASTER after skew", ev.To, ev.At.Sub(start))
		}
		time.Sleep(25 * time.Second) // still holding: no preemption
		if hi.state() != Backup || lo.state() != Master {
			t.Fatalf("during hold: HI %s, LO %s", hi.state(), lo.state())
		}
		time.Sleep(10 * time.Second) // hold over: HI preempts
		if hi.state() != Master || lo.state() != Backup {
			t.Errorf("after hold: HI %s, LO %s; want HI master again", hi.state(), lo.state())
		}
	})
}

// A drill with no backup alive ends with the master taking its VIPs back
// after master_down.
func TestStepDownWithoutPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		a := w.add(t, "192.0.2.11", testConfig("A", 150), nil)
		time.Sleep(10 * time.Second)
		start := time.Now()
		if err := a.inst.StepDown(time.Minute); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		ev := a.lastEvent()
		if ev.To != Master || ev.At.Sub(start) != MasterDown(V3, 150, time.Second) || !a.holds() {
			t.Errorf("A %s after %s holding %v; want MASTER again after master_down", ev.To, ev.At.Sub(start), a.holds())
		}
	})
}
