//go:build lab

package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/vrrp"
)

// runnerKillGrace is the script runner's time between SIGTERM and SIGKILL
// (internal/script's killGrace).
const runnerKillGrace = 500 * time.Millisecond

// hangingStopScript writes a stop script that ignores SIGTERM and hangs
// (sleep 300) with two children, one in its process group and one in a
// group of its own (bash job control), each pid appended to pids.
func hangingStopScript(t *testing.T) (script, pids string) {
	t.Helper()
	dir := scriptDir(t, 0o755)
	script, pids = filepath.Join(dir, "stop"), filepath.Join(dir, "pids")
	body := "#!/bin/bash\ntrap '' TERM\necho $$ >> " + pids + "\n" +
		"sleep 300 & echo $! >> " + pids + "\n" +
		"set -m\nsleep 300 & echo $! >> " + pids + "\n" +
		"wait\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, pids
}

func scriptInstanceHCL(name string, vrid, prio int, vip, stop string) string {
	notify := ""
	if stop != "" {
		notify = fmt.Sprintf("  notify {\n    stop = [%q]\n  }\n", stop)
	}
	return fmt.Sprintf(`
vrrp %q {
  interface         = "eth0"
  virtual_router_id = %d
  priority          = %d
  advert_interval   = %q
  virtual_ips       = [%q]
%s}
`, name, vrid, prio, advert.String(), vip, notify)
}

// scriptPids reads the pids the stop scripts wrote.
func scriptPids(t *testing.T, file string) []int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// alive reports whether pid runs (neither gone nor a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || !strings.HasPrefix(string(b[i:]), ") Z")
}

// scriptPair starts dir-a as master of n instances, each with stop as
// its stop script (run as root), and dir-b as backup of the first two; it
// returns once dir-a holds every VIP.
func scriptPair(t *testing.T, p *pairLab, stop string, n int) (a, b *lvsdtest.Daemon) {
	t.Helper()
	instances := func(prio int, stop string, n int) string {
		var s string
		for i := range n {
			s += scriptInstanceHCL(fmt.Sprintf("VI_%d", i+1), 51+i, prio, scriptVIPs[i], stop)
		}
		return s
	}
	a = lvsdtest.Start(t, p.a, "global {\n  script_user = \"root\"\n}\n"+instances(150, stop, n))
	b = lvsdtest.Start(t, p.b, instances(100, "", 2))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)
	lvsdtest.WaitFor(t, 3*time.Second, "dir-a holds every VIP", func() bool {
		for _, v := range scriptVIPs[:n] {
			if !holds(t, p.a, vipAddr(v)) {
				return false
			}
		}
		return true
	})
	return a, b
}

var scriptVIPs = []string{"192.0.2.100/24", "192.0.2.101/24", "192.0.2.102/24"}

// waitScriptStarted waits until the stop scripts wrote n pids.
func waitScriptStarted(t *testing.T, pidFile string, n int) {
	t.Helper()
	lvsdtest.WaitFor(t, 3*time.Second, "the stop script starts", func() bool {
		b, _ := os.ReadFile(pidFile)
		return strings.Count(string(b), "\n") >= n
	})
}

// TestStopNeverWaitsOnScripts (issue 10, finding 3): a master of two
// instances whose stop script hangs (sleep 300, SIGTERM ignored, children
// in and out of its process group). SIGTERM makes both instances resign
// at once, so the peer holds both VIPs within skew + slack; lvsd exits
// within the stop scripts' grace and the runner's kill; and nothing of
// the script survives it.
func TestStopNeverWaitsOnScripts(t *testing.T) {
	p := newPairLab(t)
	stop, pidFile := hangingStopScript(t)
	a, _ := scriptPair(t, p, stop, 2)

	stopped := time.Now()
	a.Signal(syscall.SIGTERM)
	bound := vrrp.Skew(vrrp.V3, 100, advert) + slack
	var took1, took2 time.Duration
	lvsdtest.WaitFor(t, 5*time.Second, "dir-b holds both VIPs", func() bool {
		if took1 == 0 && holds(t, p.b, vipAddr(scriptVIPs[0])) {
			took1 = time.Since(stopped)
		}
		if took2 == 0 && holds(t, p.b, vipAddr(scriptVIPs[1])) {
			took2 = time.Since(stopped)
		}
		return took1 > 0 && took2 > 0
	})
	t.Logf("dir-b holds VI_1's VIP %s, VI_2's %s after SIGTERM (bound skew + slack = %s)", took1, took2, bound)
	if took1 > bound || took2 > bound {
		t.Errorf("takeover of VI_1 %s, of VI_2 %s; bound %s", took1, took2, bound)
	}
	waitScriptStarted(t, pidFile, 3)
	exitBound := vrrp.StopScriptGrace + runnerKillGrace + slack
	lvsdtest.WaitFor(t, 10*time.Second, "lvsd on dir-a exits", a.Exited)
	exited := time.Since(stopped)
	t.Logf("lvsd exited %s after SIGTERM (bound grace %s + kill %s + slack = %s)", exited, vrrp.StopScriptGrace, runnerKillGrace, exitBound)
	if exited > exitBound {
		t.Errorf("lvsd exited %s after SIGTERM, bound %s", exited, exitBound)
	}
	if holds(t, p.a, vipAddr(scriptVIPs[0])) || holds(t, p.a, vipAddr(scriptVIPs[1])) {
		t.Error("dir-a still holds a VIP after its stop")
	}
	if !strings.Contains(a.Output(), "notify scripts still running at stop: killed") {
		t.Error("lvsd did not log the stop script it killed")
	}
	assertNoSurvivors(t, pidFile)
}

// TestReloadNeverWaitsOnScripts (issue 10, finding 3): a reload that
// removes an instance whose stop script hangs returns at once and the
// daemon answers meanwhile; the script, detached, is killed at lvsd's
// stop with all it started.
func TestReloadNeverWaitsOnScripts(t *testing.T) {
	p := newPairLab(t)
	stop, pidFile := hangingStopScript(t)
	a, _ := scriptPair(t, p, stop, 3)

	cfg, err := os.ReadFile(a.Config)
	if err != nil {
		t.Fatal(err)
	}
	vi3 := scriptInstanceHCL("VI_3", 53, 150, scriptVIPs[2], stop)
	if err := os.WriteFile(a.Config, []byte(strings.Replace(string(cfg), vi3, "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if msg, err := a.Reload(); err != nil {
		t.Fatalf("lvsd reload: %v\n%s", err, msg)
	}
	took := time.Since(start)
	waitScriptStarted(t, pidFile, 3)
	start = time.Now()
	if _, err := a.Status(); err != nil {
		t.Errorf("status while the stop script hangs: %v", err)
	}
	statusTook := time.Since(start)
	t.Logf("reload removing VI_3 returned in %s; status, the script hanging, in %s", took, statusTook)
	if took > slack || statusTook > slack {
		t.Errorf("reload %s, status %s with a stop script hanging; want each within %s", took, statusTook, slack)
	}
	if holds(t, p.a, vipAddr(scriptVIPs[2])) {
		t.Error("dir-a holds VI_3's VIP after the reload removed it")
	}

	stopped := time.Now()
	a.Terminate()
	t.Logf("lvsd exited %s after SIGTERM", time.Since(stopped))
	assertNoSurvivors(t, pidFile)
}

// assertNoSurvivors fails for each process of the stop scripts still
// running a moment after lvsd exited (gone, or a zombie awaiting its
// reaper, is dead), and kills it. The lab's hosts are namespaces of this
// machine: /proc sees their processes.
func assertNoSurvivors(t *testing.T, pidFile string) {
	t.Helper()
	pids := scriptPids(t, pidFile)
	if len(pids) < 3 {
		t.Fatalf("the stop scripts wrote pids %v, want at least the script and its two children", pids)
	}
	var survivors []int
	for end := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
		survivors = survivors[:0]
		for _, pid := range pids {
			if alive(pid) {
				survivors = append(survivors, pid)
			}
		}
		if len(survivors) == 0 || time.Now().After(end) {
			break
		}
	}
	for _, pid := range survivors {
		t.Errorf("process %d of a stop script survived lvsd", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	t.Logf("the stop scripts' processes %v: none survived", pids)
}

func vipAddr(prefix string) netip.Addr { return netip.MustParsePrefix(prefix).Addr() }
