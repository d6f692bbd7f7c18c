//go:build lab

package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/vrrp"
)

// TestDrill: `lvsd drill` on the master hands over to the peer and
// reports it (exit 0); after --hold the master preempts back. With the
// peer down the drill fails (exit 1) with the reason, and the master
// takes its VIP back.
func TestDrill(t *testing.T) {
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	b := lvsdtest.Start(t, p.b, instanceHCL(100, ""))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)

	hold := 3 * time.Second
	out, err := exec.Command(lvsdBin, "drill", "-s", a.Socket, "--hold", hold.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("lvsd drill: %v\n%s", err, out)
	}
	report := string(out)
	t.Logf("lvsd drill:\n%s", report)
	for _, want := range []string{"drill VI_1: 192.0.2.12 took over in", "gratuitous ARP from the new master: 2, the first after", "held back for 3s"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if a.State() != "BACKUP" || b.State() != "MASTER" || holdsVIP(t, p.a) || !holdsVIP(t, p.b) {
		t.Fatalf("after the drill: dir-a %s, dir-b %s", a.State(), b.State())
	}
	// After the hold, the higher priority takes over again.
	a.WaitState("MASTER", hold+vrrp.MasterDown(vrrp.V3, 150, advert)+2*time.Second)
	b.WaitState("BACKUP", time.Second)

	b.Kill()
	time.Sleep(advert)
	cmd := exec.Command(lvsdBin, "drill", "-s", a.Socket)
	out, err = cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); err == nil || code != 1 || !strings.Contains(string(out), "no peer took over") {
		t.Errorf("drill with the peer down: exit %d, %s; want 1 with the reason", code, out)
	}
	a.WaitState("MASTER", time.Second)
	if !holdsVIP(t, p.a) {
		t.Error("dir-a lost the VIP in a failed drill")
	}
	// Not the master: a clear refusal.
	c := exec.Command(lvsdBin, "drill", "-s", a.Socket, "--instance", "VI_9")
	if out, _ := c.CombinedOutput(); c.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), `no instance "VI_9"`) {
		t.Errorf("unknown instance: %s", out)
	}
}
