package vrrp

import (
	"errors"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// freeze holds the instance's goroutine, as SIGSTOP holds the process,
// until the returned func is called; the node's Deliver goes on queueing
// what the wire brings, as the kernel queues it on the socket.
func (n *node) freeze() (thaw func()) {
	frozen, release := make(chan struct{}), make(chan struct{})
	go n.inst.do(func() { close(frozen); <-release })
	<-frozen
	return func() { close(release) }
}

// downDue is when the instance's Master_Down_Timer is due.
func (n *node) downDue() (due time.Time) {
	n.inst.do(func() { due = n.inst.downDue })
	return due
}

// Finding 6: a backup frozen past master_down and continued finds its
// expired timer and the adverts queued meanwhile ready at once. It judges
// the adverts first and stays BACKUP, every time: the freeze ends here
// both exactly as the timer falls due (only the queue can tell) and well
// past it (5 s with a 1 s interval, as in the lab).
func TestFrozenBackupStaysBackup(t *testing.T) {
	for _, late := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			w := &wire{}
			m := w.add(t, "192.0.2.11", testConfig("M", 150), nil)
			b := w.add(t, "192.0.2.12", testConfig("B", 100), nil)
			time.Sleep(10 * time.Second)
			for i := range 20 {
				// Freeze just after an advert, so that adverts queue before
				// the timer falls due.
				time.Sleep(m.lastSent().Add(10 * time.Millisecond).Sub(time.Now()))
				due := b.downDue()
				thaw := b.freeze()
				if late {
					time.Sleep(5 * time.Second)
				} else {
					time.Sleep(due.Sub(time.Now()))
				}
				thaw()
				synctest.Wait()
				// Only its start: a takeover undone at once by the next
				// queued advert is still a takeover (and a GARP burst).
				if ev := b.lastEvent(); b.state() != Backup || ev.To != Backup || ev.From != Initialize {
					t.Fatalf("freeze %d (late %t): B is %s, last transition %s → %s (%s); want BACKUP since its start",
						i, late, b.state(), ev.From, ev.To, ev.Cause)
				}
				time.Sleep(2 * time.Second)
			}
			if m.state() != Master || b.lastEvent().From != Initialize {
				t.Errorf("M %s, B's last transition %+v; want M master, B never left BACKUP", m.state(), b.lastEvent())
			}
		})
	}
}

// A backup frozen past master_down whose master died meanwhile takes over
// once the grace for the adverts queued during the freeze is over.
func TestFrozenBackupTakesOverFromDeadMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		m := w.add(t, "192.0.2.11", testConfig("M", 150), nil)
		b := w.add(t, "192.0.2.12", testConfig("B", 100), nil)
		time.Sleep(10 * time.Second)
		thaw := b.freeze()
		m.kill()
		time.Sleep(5 * time.Second)
		thawed := time.Now()
		thaw()
		time.Sleep(time.Second)
		ev := b.lastEvent()
		if ev.To != Master || ev.At.Sub(thawed) != lateGrace {
			t.Errorf("B went %s %s after the thaw, want MASTER after the grace %s", ev.To, ev.At.Sub(thawed), lateGrace)
		}
	})
}

// A VIP removal that fails (the master stepping down) is retried until the
// interface holds none; status shows the VIP left behind meanwhile.
func TestVIPRemovalRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		lo := w.add(t, "192.0.2.11", testConfig("LO", 100), nil)
		time.Sleep(5 * time.Second)
		lo.failVIPs(syscall.EMFILE)
		hi := w.add(t, "192.0.2.12", testConfig("HI", 150), nil)
		time.Sleep(5 * time.Second)
		if hi.state() != Master || lo.state() != Backup {
			t.Fatalf("HI %s, LO %s; want MASTER, BACKUP", hi.state(), lo.state())
		}
		s, _ := lo.inst.Status()
		if !lo.holds() || !s.BackupWithVIPs || !errors.Is(lo.inst.vipErrOf(), syscall.EMFILE) {
			t.Errorf("LO holds %t, backup with VIPs %t, error %q; want the VIP left, shown, EMFILE", lo.holds(), s.BackupWithVIPs, s.VIPError)
		}
		lo.failVIPs(nil)
		time.Sleep(vipRetryMax)
		s, _ = lo.inst.Status()
		if lo.holds() || s.BackupWithVIPs || s.VIPError != "" {
			t.Errorf("LO holds %t, backup with VIPs %t, error %q; want the VIP gone", lo.holds(), s.BackupWithVIPs, s.VIPError)
		}
	})
}

func (in *Instance) vipErrOf() (err error) {
	in.do(func() { err = in.vipErr })
	return err
}

// A whole process stopped (SIGSTOP) leaves its master's adverts in the
// kernel, unread, and its timer on time when the stop ends just after the
// due time: the socket's pending packets, not the timer's lateness, tell
// the backup to wait for them. Found by the chaos soak (1 in 25 freezes).
func TestStoppedBackupReadsTheKernelQueueFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		m := w.add(t, "192.0.2.11", testConfig("M", 150), nil)
		b := w.add(t, "192.0.2.12", testConfig("B", 100), nil)
		time.Sleep(10 * time.Second)
		for i := range 10 {
			time.Sleep(m.lastSent().Add(10 * time.Millisecond).Sub(time.Now()))
			due := b.downDue()
			cont := b.stopReader()
			thaw := b.freeze()
			time.Sleep(due.Sub(time.Now()) + 10*time.Millisecond) // well within lateTolerance
			thaw()
			synctest.Wait()
			time.Sleep(20 * time.Millisecond) // the reader runs a little after the instance
			cont()
			synctest.Wait()
			if ev := b.lastEvent(); b.state() != Backup || ev.From != Initialize {
				t.Fatalf("stop %d: B is %s, last transition %s → %s (%s); want BACKUP since its start",
					i, b.state(), ev.From, ev.To, ev.Cause)
			}
			time.Sleep(2 * time.Second)
		}
	})
}

// A stop gives a failing VIP removal a few short tries, not the backoff
// the retries reached (up to vipRetryMax each): instances stop one after
// another, and the service manager's patience is shared by all of them.
func TestStopNeverWaitsOnTheVIPBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wire{}
		a := w.add(t, "192.0.2.11", testConfig("A", 150), nil)
		time.Sleep(5 * time.Second)
		if a.state() != Master {
			t.Fatalf("A is %s", a.state())
		}
		a.failVIPs(syscall.EMFILE)
		a.inst.do(a.inst.removeVIPs) // a failed removal: the backoff starts
		time.Sleep(30 * time.Second) // and grows to vipRetryMax
		start := time.Now()
		a.stop()
		if took := time.Since(start); took > shutdownRetries*shutdownWait {
			t.Errorf("the stop took %s; want at most %d × %s", took, shutdownRetries, shutdownWait)
		}
	})
}
