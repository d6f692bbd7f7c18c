//go:build lab

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/vrrp"
)

// vipBound is the bound on the time no host holds the VIP after
// an outside change: master_down + skew of the backup, plus 200 ms.
var vipBound = vrrp.MasterDown(vrrp.V3, 100, advert) + vrrp.Skew(vrrp.V3, 100, advert) + 200*time.Millisecond

// ipCmd runs `ip args...` in host h, as an operator (or a network
// manager) on that machine would.
func ipCmd(t *testing.T, h *lab.Host, args ...string) {
	t.Helper()
	cmd := h.Command(context.Background(), "ip", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := h.Run(cmd); err != nil {
		t.Fatalf("ip %s on %s: %v\n%s", strings.Join(args, " "), h.Name(), err, out.String())
	}
}

// statusSays reports whether the daemon's status lists the VIP as present.
func statusSays(d *lvsdtest.Daemon) bool {
	return slices.Contains(d.Instance().VIPsPresent, vip.String()+"/24")
}

// holderWatch samples, every 10 ms until done holds or timeout, who holds
// the VIP and what each daemon's status says of it.
type holderWatch struct {
	gap  time.Duration // the longest time no host held the VIP
	lies [2]time.Duration
}

func watchHolders(t *testing.T, p *pairLab, a, b *lvsdtest.Daemon, timeout time.Duration, done func() bool) holderWatch {
	t.Helper()
	var w holderWatch
	var noneSince time.Time
	var lieSince [2]time.Time
	for end := time.Now().Add(timeout); !done(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the pair did not settle within %s", timeout)
		}
		now := time.Now()
		held := [2]bool{holdsVIP(t, p.a), holdsVIP(t, p.b)}
		says := [2]bool{statusSays(a), statusSays(b)}
		if held[0] || held[1] {
			noneSince = time.Time{}
		} else if noneSince.IsZero() {
			noneSince = now
		} else {
			w.gap = max(w.gap, time.Since(noneSince))
		}
		for i := range 2 {
			// A status read and an address read cannot be taken at once:
			// a disagreement of one sample is the race, not a lie.
			if says[i] == held[i] {
				lieSince[i] = time.Time{}
			} else if lieSince[i].IsZero() {
				lieSince[i] = now
			} else {
				w.lies[i] = max(w.lies[i], time.Since(lieSince[i]))
			}
		}
	}
	return w
}

// A VIP deleted on the master by something else: the master hands over
// (priority 0), dir-b takes over, and dir-a, the higher priority, takes
// the VIP back after its master_down. One host holds the VIP again within
// master_down + skew + 200 ms, the observer's neighbour entry follows, and
// status tells what each interface holds throughout.
func TestVIPDeletedOnMaster(t *testing.T) {
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	b := lvsdtest.Start(t, p.b, instanceHCL(100, ""))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)
	p.learnVIP()
	lvsdtest.WaitFor(t, time.Second, "dir-a's status lists the VIP present", func() bool { return statusSays(a) })

	deleted := time.Now()
	ipCmd(t, p.a, "addr", "del", vip.String()+"/24", "dev", "eth0")
	lvsdtest.WaitFor(t, 2*time.Second, "dir-a hands over", func() bool { return a.Instance().VIPsLost == 1 })
	w := watchHolders(t, p, a, b, 10*time.Second, func() bool {
		return a.State() == "MASTER" && b.State() == "BACKUP" && holdsVIP(t, p.a) && !holdsVIP(t, p.b)
	})
	t.Logf("VIP deleted on the master: no holder for %s at most (bound master_down + skew + 200ms = %s); dir-a back after %s; status off by %s/%s",
		w.gap, vipBound, time.Since(deleted), w.lies[0], w.lies[1])
	if w.gap > vipBound {
		t.Errorf("no host held the VIP for %s, bound %s", w.gap, vipBound)
	}
	if _, ok := p.arps.First(deleted, vip, p.bLink.MAC()); !ok {
		t.Error("dir-b sent no gratuitous ARP when it took over")
	}
	lvsdtest.WaitFor(t, time.Second, "observer's VIP entry back on dir-a", func() bool { return bytes.Equal(p.neighborMAC(), p.aLink.MAC()) })
	for i, lie := range w.lies {
		if lie > 200*time.Millisecond {
			t.Errorf("%s's status disagreed with its interface for %s", []string{"dir-a", "dir-b"}[i], lie)
		}
	}
	sa, sb := a.Instance(), b.Instance()
	if sa.MasterWithoutVIPs || !slices.Equal(sa.VIPsPresent, []string{"192.0.2.100/24"}) || sa.VIPsLost != 1 ||
		len(sb.VIPsPresent) != 0 || sb.BackupWithVIPs {
		t.Errorf("after: dir-a %+v\ndir-b %+v", sa, sb)
	}
	if out := a.Output(); !strings.Contains(out, "removed from a master by something else") {
		t.Errorf("dir-a's log does not say why it handed over:\n%s", out)
	}
}

// A VIP added by hand on the backup is reported in status, metrics and
// the log, and left there, as keepalived leaves it.
func TestVIPAddedOnBackup(t *testing.T) {
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	b := lvsdtest.Start(t, p.b, "global {\n  metrics_listen = \"127.0.0.1:9560\"\n}\n"+instanceHCL(100, ""))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)

	ipCmd(t, p.b, "addr", "add", vip.String()+"/24", "dev", "eth0")
	lvsdtest.WaitFor(t, time.Second, "dir-b's status reports the VIP", func() bool { return b.Instance().BackupWithVIPs })
	s := b.Instance()
	if s.State != "BACKUP" || !slices.Equal(s.VIPsPresent, []string{"192.0.2.100/24"}) || len(s.VIPs) != 0 {
		t.Errorf("dir-b's status: %+v", s)
	}
	metrics := curl(t, p.b, "http://127.0.0.1:9560/metrics")
	for _, want := range []string{`lvsd_vrrp_backup_with_vips{instance="VI_1"} 1`, `lvsd_vrrp_vips_present{instance="VI_1"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("dir-b's metrics lack %s", want)
		}
	}
	if out := b.Output(); !strings.Contains(out, "added by something else") {
		t.Errorf("dir-b's log does not report the VIP:\n%s", out)
	}
	time.Sleep(2 * advert)
	if !holdsVIP(t, p.b) || a.State() != "MASTER" || b.State() != "BACKUP" {
		t.Errorf("dir-b holds the VIP %t, dir-a %s, dir-b %s; want it left there, states unchanged", holdsVIP(t, p.b), a.State(), b.State())
	}

	ipCmd(t, p.b, "addr", "del", vip.String()+"/24", "dev", "eth0")
	lvsdtest.WaitFor(t, time.Second, "dir-b's status clears", func() bool { return !b.Instance().BackupWithVIPs })
}

// curl fetches url from inside host h.
func curl(t *testing.T, h *lab.Host, url string) string {
	t.Helper()
	cmd := h.Command(context.Background(), "curl", "-sS", "--max-time", "5", url)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := h.Run(cmd); err != nil {
		t.Fatalf("curl %s on %s: %v\n%s", url, h.Name(), err, errOut.String())
	}
	return out.String()
}

// Finding 8: the master's interface is renumbered (ip addr add .21/24;
// ip addr del .11/24); the peer sees its adverts from the new address at
// once, and nothing else changes. promote_secondaries keeps the other
// addresses of the subnet (the VIP among them) when the primary goes, as
// most distributions set it; without it the kernel deletes them all.
func TestRenumberedInterface(t *testing.T) {
	p := newPairLab(t)
	if err := p.a.Sysctl("net.ipv4.conf.eth0.promote_secondaries", "1"); err != nil {
		t.Fatal(err)
	}
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	b := lvsdtest.Start(t, p.b, instanceHCL(100, ""))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)
	transitions := a.Instance().Transitions

	renumbered := time.Now()
	ipCmd(t, p.a, "addr", "add", "192.0.2.21/24", "dev", "eth0")
	ipCmd(t, p.a, "addr", "del", "192.0.2.11/24", "dev", "eth0")
	lvsdtest.WaitFor(t, advert+slack, "dir-b hears dir-a from 192.0.2.21", func() bool { return b.Instance().Master == "192.0.2.21" })
	t.Logf("renumbered: dir-b follows the new address after %s (bound one advert %s + slack)", time.Since(renumbered), advert)
	time.Sleep(3 * advert)
	if s := a.Instance(); s.State != "MASTER" || s.Transitions != transitions || !holdsVIP(t, p.a) || b.State() != "BACKUP" {
		t.Errorf("after: dir-a %s (%d transitions, was %d), holds the VIP %t; dir-b %s", s.State, s.Transitions, transitions, holdsVIP(t, p.a), b.State())
	}
}

// Finding 6: a backup stopped (SIGSTOP) past master_down and continued
// judges the adverts queued meanwhile before its expired timer: it stays
// BACKUP, every time (keepalived: 0 of 5 takeovers).
func TestFrozenBackup(t *testing.T) {
	const interval = time.Second
	hcl := func(prio int) string {
		return strings.Replace(instanceHCL(prio, ""), fmt.Sprintf("%q", advert.String()), fmt.Sprintf("%q", interval.String()), 1)
	}
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, hcl(150))
	b := lvsdtest.Start(t, p.b, hcl(100))
	a.WaitState("MASTER", 10*time.Second)
	b.WaitState("BACKUP", time.Second)
	transitions := b.Instance().Transitions
	for run := range 5 {
		b.Signal(syscall.SIGSTOP)
		time.Sleep(5 * time.Second)
		b.Signal(syscall.SIGCONT)
		time.Sleep(2 * interval)
		if s := b.Instance(); s.State != "BACKUP" || s.Transitions != transitions || holdsVIP(t, p.b) {
			t.Fatalf("run %d: dir-b %s after %d transitions (was %d), holds the VIP %t; want BACKUP throughout\n%s",
				run+1, s.State, s.Transitions, transitions, holdsVIP(t, p.b), b.Output())
		}
		if a.State() != "MASTER" {
			t.Fatalf("run %d: dir-a %s", run+1, a.State())
		}
	}
	t.Logf("5 of 5 freezes of 5 s (interval %s, master_down %s): dir-b stayed BACKUP", interval, vrrp.MasterDown(vrrp.V3, 100, interval))
}
