package soak

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/test/lvsdtest"
)

// secondRunWait bounds how long a second `lvsd run` may live: it must
// refuse at once (exit 1, naming the running daemon).
const secondRunWait = 10 * time.Second

// target resolves whom f hits: the holder of the VIP for Master, the
// other for Backup; with keepalived on one side, the lvsd for the kinds
// only lvsd has.
func (p *pair) target(f Fault) *node {
	if p.v.Keepalived && slices.Contains(lvsdOnly, f.Kind) {
		return p.nodes[0]
	}
	master := p.sole()
	if master == nil {
		master = p.nodes[0] // the higher priority
	}
	if f.Role == Master {
		return master
	}
	return p.other(master)
}

// inject applies f to n and undoes it (SIGCONT, up, heal, restart, the
// good file back). It returns what the fault itself showed wrong: a
// refused valid reload, an accepted invalid one, a failed drill, a second
// daemon that stays.
func (p *pair) inject(f Fault, n *node) []string {
	p.t.Helper()
	switch f.Kind {
	case Kill:
		n.proc().Kill()
		time.Sleep(f.Hold)
		p.start(n, fmt.Sprintf("#%d", f.Seq))
	case StopMaster, StopBackup:
		// The process group: keepalived's VRRP work is in its child.
		pg := -n.proc().Pid()
		if err := syscall.Kill(pg, syscall.SIGSTOP); err != nil {
			p.t.Fatalf("soak: SIGSTOP %s: %v", n.proc().Name(), err)
		}
		time.Sleep(f.Hold)
		if err := syscall.Kill(pg, syscall.SIGCONT); err != nil {
			p.t.Fatalf("soak: SIGCONT %s: %v", n.proc().Name(), err)
		}
	case LinkFlap:
		n.link.Down()
		time.Sleep(f.Hold)
		n.link.Up()
	case Partition:
		n.link.Cut()
		time.Sleep(f.Hold)
		n.link.Heal()
	case VIPDeleted:
		if out, err := p.run(n.host, "ip", "addr", "del", vipPrefix.String(), "dev", "eth0"); err != nil {
			p.t.Logf("soak: ip addr del on %s: %v: %s", n.name, err, out)
		}
	case SecondRun:
		return p.secondRun(n)
	case Reload:
		return p.reload(f, n)
	case ReloadBad:
		return p.reloadInvalid(f, n)
	case HUPBurst:
		for range f.N {
			n.proc().Signal(syscall.SIGHUP)
			time.Sleep(10 * time.Millisecond)
		}
	case Drill:
		out, err := n.lvsd.CLI("drill", "--hold", f.Hold.String())
		if err != nil {
			return []string{fmt.Sprintf("lvsd drill on %s failed with a healthy peer: %v: %s", n.name, err, out)}
		}
		time.Sleep(f.Hold) // then the normal preemption resumes
	default:
		p.t.Fatalf("soak: no injector for %q", f.Kind)
	}
	return nil
}

// secondRun starts `lvsd run` on n's own file, as a second shell next to
// the unit would, and waits for it to give up.
func (p *pair) secondRun(n *node) []string {
	second := lvsdtest.StartProcess(p.t, n.host, "a second lvsd run on "+n.name, p.bin, "run", "-c", n.lvsd.Config)
	deadline := time.Now().Add(secondRunWait)
	for !second.Exited() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !second.Exited() {
		second.Kill()
		return []string{fmt.Sprintf("a second lvsd run on %s still ran %s after its start; its output:\n%s", n.name, secondRunWait, tail(second.Output(), 8))}
	}
	p.t.Logf("soak: the second lvsd run on %s said:\n%s", n.name, tail(second.Output(), 4))
	return nil
}

// reload reloads the daemon's file as it is (N 0) or with its GARP repeat
// toggled between 2 and 3 (N 1): both valid, the second an in-place
// update of the instance.
func (p *pair) reload(f Fault, n *node) []string {
	if f.N == 1 {
		b, err := os.ReadFile(n.lvsd.Config)
		if err != nil {
			p.t.Fatal(err)
		}
		s := string(b)
		if strings.Contains(s, "repeat = 2") {
			s = strings.Replace(s, "repeat = 2", "repeat = 3", 1)
		} else {
			s = strings.Replace(s, "repeat = 3", "repeat = 2", 1)
		}
		if err := os.WriteFile(n.lvsd.Config, []byte(s), 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
	if out, err := n.lvsd.Reload(); err != nil {
		return []string{fmt.Sprintf("a valid reload of lvsd on %s failed: %v: %s", n.name, err, out)}
	}
	return nil
}

// reloadInvalid puts a file with a syntax error in place of the daemon's
// and reloads it through the daemon (N 0) or with `lvsd reload -c FILE`
// (N 1), then puts the good file back. Either must be refused.
func (p *pair) reloadInvalid(f Fault, n *node) []string {
	good, err := os.ReadFile(n.lvsd.Config)
	if err != nil {
		p.t.Fatal(err)
	}
	broken := string(good) + "vrrp \"VI_2\" {\n  priority = \n"
	if err := os.WriteFile(n.lvsd.Config, []byte(broken), 0o644); err != nil {
		p.t.Fatal(err)
	}
	defer func() {
		if err := os.WriteFile(n.lvsd.Config, good, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}()
	var out string
	if f.N == 0 {
		out, err = n.lvsd.Reload()
	} else {
		out, err = p.run(n.host, p.bin, "reload", "-c", n.lvsd.Config)
	}
	if err == nil {
		return []string{fmt.Sprintf("lvsd on %s accepted a file with a syntax error: %s", n.name, out)}
	}
	return nil
}
