//go:build lab

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/vrrp"
)

// lvsdIn runs the lvsd binary in host h, as an operator on that director
// would, and returns its combined output and exit status.
func lvsdIn(t *testing.T, h *lab.Host, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := h.Command(ctx, lvsdBin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := h.Run(cmd)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("lvsd %v in %s: %v\n%s", args, h.Name(), err, out.String())
	}
	return out.String(), 0
}

// writeFile writes a configuration file into the test's folder.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// vipWatch polls, until stopped, that h alone of the pair holds the VIP,
// counting the polls where it did not.
type vipWatch struct {
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	polls  int
	misses []string
}

func watchVIP(t *testing.T, holder, other *lab.Host) *vipWatch {
	w := &vipWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			a, errA := holder.HasAddr("eth0", vip)
			b, errB := other.HasAddr("eth0", vip)
			w.mu.Lock()
			w.polls++
			if !a || b || errA != nil || errB != nil {
				w.misses = append(w.misses, fmt.Sprintf("%s: %s holds %v (%v), %s holds %v (%v)",
					time.Now().Format("15:04:05.000"), holder.Name(), a, errA, other.Name(), b, errB))
			}
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *vipWatch) end() (polls int, misses []string) {
	close(w.stop)
	<-w.done
	return w.polls, w.misses
}

// TestSecondRunRefused: a second `lvsd run -c same.hcl` on the master
// exits 1 naming the running daemon's pid and socket, before touching
// anything: the master holds the VIP all along (and the peer never takes
// it), the second process logs nothing but its refusal, and the running
// daemon's status is unchanged.
func TestSecondRunRefused(t *testing.T) {
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	b := lvsdtest.Start(t, p.b, instanceHCL(100, ""))
	a.WaitState("MASTER", 5*time.Second)
	b.WaitState("BACKUP", time.Second)
	before, bBefore := a.Instance(), b.Instance()

	w := watchVIP(t, p.a, p.b)
	out, code := lvsdIn(t, p.a, "run", "-c", a.Config)
	// A second instance that had resigned (priority 0) would hand over
	// within skew; one that had deleted the VIP would show at once. Watch
	// past master_down, the longest either could take to show.
	time.Sleep(vrrp.MasterDown(vrrp.V3, 100, advert) + slack)
	polls, misses := w.end()

	want := fmt.Sprintf("lvsd run: another lvsd is running: pid %d holds its control socket %s (lock %s.lock); nothing started\n", a.Pid(), a.Socket, a.Socket)
	if code != 1 || out != want {
		t.Errorf("second lvsd run: exit %d, output:\n%s\nwant exit 1 and only:\n%s", code, out, want)
	}
	t.Logf("VIP polled %d times on both hosts while the second run came and went", polls)
	if len(misses) > 0 {
		t.Errorf("dir-a was not the only holder of the VIP in %d of %d polls, first: %s", len(misses), polls, misses[0])
	}
	s, err := a.Status()
	if err != nil {
		t.Fatalf("the running daemon stopped answering: %v", err)
	}
	after := s.Instances[0]
	if s.PID != a.Pid() || after.State != "MASTER" || after.Transitions != before.Transitions || after.LastTransition.At != before.LastTransition.At {
		t.Errorf("running daemon: pid %d, %s, %d transitions (last %v); before: pid %d, MASTER, %d (last %v)",
			s.PID, after.State, after.Transitions, after.LastTransition, a.Pid(), before.Transitions, before.LastTransition)
	}
	if bAfter := b.Instance(); bAfter.State != "BACKUP" || bAfter.Transitions != bBefore.Transitions {
		t.Errorf("dir-b: %s after %d transitions, before %d; want BACKUP throughout", bAfter.State, bAfter.Transitions, bBefore.Transitions)
	}
	if a.Exited() {
		t.Fatal("the running daemon exited")
	}
}

// TestReloadInvalidFileNotAsked: `lvsd reload -c FILE` on an invalid FILE
// prints the diagnostics as `lvsd check` does and exits 1 without asking
// the daemon (its reload counters do not move), for a syntax error and for
// a file whose control_socket does name the daemon.
func TestReloadInvalidFileNotAsked(t *testing.T) {
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	a.WaitState("MASTER", 5*time.Second)
	files := map[string]string{
		"syntax error": writeFile(t, "syntax.hcl", "vrrp \"VI_1\" {\n  interface = \"eth0\"\n"),
		"invalid, naming the daemon": writeFile(t, "vrid.hcl", fmt.Sprintf("global {\n  control_socket = %q\n}\n", a.Socket)+
			strings.Replace(instanceHCL(150, ""), "virtual_router_id = 51", "virtual_router_id = 300", 1)),
	}
	for name, file := range files {
		checkOut, checkCode := lvsdIn(t, p.a, "check", "-c", file)
		out, code := lvsdIn(t, p.a, "reload", "-c", file)
		if checkCode != 1 || !strings.Contains(checkOut, file+": invalid: 1 problem") {
			t.Errorf("%s: lvsd check: exit %d\n%s", name, checkCode, checkOut)
		}
		want := checkOut + "lvsd reload: the daemon was not asked (give -s SOCKET to reach it regardless of " + file + ")\n"
		if code != 1 || out != want {
			t.Errorf("%s: lvsd reload -c: exit %d, output:\n%s\nwant exit 1 and:\n%s", name, code, out, want)
		}
	}
	s, err := a.Status()
	if err != nil || s.Reloads != 0 || s.ReloadFailures != 0 {
		t.Errorf("the daemon's reload counters: %+v, %v; want 0 and 0, never asked", s, err)
	}
}

// TestDeeplyNestedFile: a file of 100,000 nested brackets, which overflows
// the HCL parser's stack (a fatal error), is refused by check, by reload
// -c and by the running daemon's own reload; the daemon keeps running as
// master.
func TestDeeplyNestedFile(t *testing.T) {
	p := newPairLab(t)
	a := lvsdtest.Start(t, p.a, instanceHCL(150, ""))
	a.WaitState("MASTER", 5*time.Second)
	deep := fmt.Sprintf("global {\n  control_socket = %q\n}\nx = %s\n", a.Socket, strings.Repeat("[", 100_000))
	file := writeFile(t, "deep.hcl", deep)
	diag := file + ":4,69: Nesting too deep; more than 64 levels"
	for _, cmd := range []string{"check", "reload"} {
		if out, code := lvsdIn(t, p.a, cmd, "-c", file); code != 1 || !strings.HasPrefix(out, diag) {
			t.Errorf("lvsd %s -c: exit %d, output:\n%.300s\nwant exit 1 starting %q", cmd, code, out, diag)
		}
	}
	// The daemon's own file becomes the same: its reload refuses it.
	if err := os.WriteFile(a.Config, []byte(deep), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := a.Reload()
	if err == nil || !strings.Contains(out, a.Config+":4,69: Nesting too deep") {
		t.Errorf("lvsd reload -s: %v, %.300s; want refused with the diagnostic", err, out)
	}
	s, err := a.Status()
	if err != nil || s.ReloadFailures != 1 || s.Instances[0].State != "MASTER" || !holdsVIP(t, p.a) {
		t.Fatalf("after the refused reload: %+v, %v; want a running master holding the VIP, one failed reload", s, err)
	}
}

// TestVIPIsHostAddress: a VIP equal to the host's own address and prefix
// (dir-a's 192.0.2.11/24) is refused by check and run, and the address
// stays; a master's own VIPs, a secondary in the host's subnet and a /32
// primary, do not make its reload refuse them.
func TestVIPIsHostAddress(t *testing.T) {
	p := newPairLab(t)
	own := strings.Replace(instanceHCL(150, ""), `"192.0.2.100/24"`, `"192.0.2.11/24"`, 1)
	file := writeFile(t, "own.hcl", fmt.Sprintf("global {\n  control_socket = %q\n}\n%s", filepath.Join(t.TempDir(), "lvsd.sock"), own))
	diag := file + ":10,24: Virtual IP 192.0.2.11 is this host's own address; eth0 holds 192.0.2.11/24 as its own"
	for _, cmd := range []string{"check", "run"} {
		out, code := lvsdIn(t, p.a, cmd, "-c", file)
		if code != 1 || !strings.HasPrefix(out, diag) {
			t.Errorf("lvsd %s: exit %d, output:\n%s\nwant exit 1 starting %q", cmd, code, out, diag)
		}
	}
	if !holds(t, p.a, dirAIP.Addr()) {
		t.Fatal("dir-a lost its own address")
	}

	second := `
vrrp "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  priority          = 150
  advert_interval   = "500ms"
  virtual_ips       = ["198.51.100.7/32"]
}
`
	a := lvsdtest.Start(t, p.a, instanceHCL(150, "")+second)
	lvsdtest.WaitFor(t, 5*time.Second, "both instances master", func() bool {
		s, err := a.Status()
		return err == nil && len(s.Instances) == 2 && s.Instances[0].State == "MASTER" && s.Instances[1].State == "MASTER"
	})
	addrs, _ := p.a.Addrs("eth0")
	if out, err := a.Reload(); err != nil || strings.TrimSpace(out) != "no change" {
		t.Errorf("reload on the master holding %v: %v\n%s", addrs, err, out)
	}
	if out, code := lvsdIn(t, p.a, "check", "-c", a.Config); code != 0 {
		t.Errorf("check on the master holding %v: exit %d\n%s", addrs, code, out)
	}
}
