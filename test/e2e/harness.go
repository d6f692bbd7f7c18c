//go:build lab || bench

// Package e2e runs lvsd as operators do, in the namespace lab: real
// processes, real sockets, and keepalived as the interop peer.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/lvsd/lvsd/test/lab"
)

// lvsdBin is the lvsd binary under test, built once by TestMain.
var lvsdBin string

// Addresses of the standard pair: one segment, two directors, an observer.
var (
	segment = netip.MustParsePrefix("192.0.2.0/24")
	dirAIP  = netip.MustParsePrefix("192.0.2.11/24")
	dirBIP  = netip.MustParsePrefix("192.0.2.12/24")
	obsIP   = netip.MustParsePrefix("192.0.2.50/24")
	vip     = netip.MustParseAddr("192.0.2.100")
)

// pairLab is two director hosts and an observer on one segment.
type pairLab struct {
	t        *testing.T
	lab      *lab.Lab
	a, b     *lab.Host
	aLink    *lab.Link
	bLink    *lab.Link
	observer *lab.Host
	arps     *lab.ARPWatch
}

func newPairLab(t *testing.T) *pairLab {
	l := lab.New(t)
	nw := l.Network("lan")
	p := &pairLab{t: t, lab: l, a: l.Host("dir-a"), b: l.Host("dir-b"), observer: l.Host("obs")}
	p.aLink = p.a.Connect(nw, dirAIP)
	p.bLink = p.b.Connect(nw, dirBIP)
	obsLink := p.observer.Connect(nw, obsIP)
	p.arps = p.observer.WatchARP(t, obsLink.Name())
	return p
}

// learnVIP makes the observer resolve the VIP, so that it has a neighbour
// entry that gratuitous ARP must then move.
func (p *pairLab) learnVIP() {
	p.t.Helper()
	err := p.observer.Do(func() error {
		c, err := net.Dial("udp4", netip.AddrPortFrom(vip, 9).String())
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("who has the VIP"))
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
	waitFor(p.t, 3*time.Second, "observer resolves the VIP", func() bool {
		_, _, ok := p.observer.Neighbor(vip)
		return ok
	})
}

// neighborMAC is the observer's current MAC for the VIP.
func (p *pairLab) neighborMAC() net.HardwareAddr {
	mac, _, _ := p.observer.Neighbor(vip)
	return mac
}

// holdsVIP reports whether host h has the VIP on its eth0.
func holdsVIP(t *testing.T, h *lab.Host) bool {
	var held bool
	err := h.Do(func() error {
		link, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && ip == vip {
				held = true
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("reading addresses of %s: %v", h.Name(), err)
	}
	return held
}

// waitFor polls cond every 10ms until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// router is a VRRP daemon under test: lvsd or keepalived.
type router interface {
	name() string
	kill()      // SIGKILL: no resignation
	terminate() // SIGTERM and wait: resigns with priority 0
}

// proc is a daemon process in a lab host, its output kept for failures.
type proc struct {
	t     testing.TB
	label string
	host  *lab.Host
	dir   string
	cmd   *exec.Cmd
	out   *syncBuffer
	done  chan struct{}
}

func startProc(t testing.TB, h *lab.Host, label, dir string, argv ...string) *proc {
	t.Helper()
	p := &proc{t: t, label: label, host: h, dir: dir, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = h.Command(context.Background(), argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := h.Start(p.cmd); err != nil {
		t.Fatalf("starting %s: %v", label, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", label, p.out.String())
		}
	})
	return p
}

func (p *proc) name() string { return p.label }

func (p *proc) signal(s syscall.Signal) {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(s)
	}
}

// kill SIGKILLs the whole process group, so that a daemon's helpers
// (keepalived's VRRP child) die as unplanned as the daemon itself.
func (p *proc) kill() {
	select {
	case <-p.done:
	default:
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

func (p *proc) terminate() {
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s did not stop within 10s of SIGTERM", p.label)
		p.kill()
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// lvsdProc is lvsd running in a lab host.
type lvsdProc struct {
	*proc
	socket string
}

// startLvsd runs lvsd in h with body as its configuration (a global block
// pointing the control socket into the test's directory is added).
func startLvsd(t testing.TB, h *lab.Host, body string) *lvsdProc {
	t.Helper()
	return startLvsdGlobal(t, h, "", body)
}

// startLvsdGlobal is startLvsd with more attributes in the global block.
func startLvsdGlobal(t testing.TB, h *lab.Host, global, body string) *lvsdProc {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "lvsd.sock")
	cfg := fmt.Sprintf("global {\n  router_id = %q\n  control_socket = %q\n  log_level = \"debug\"\n%s}\n%s", h.Name(), sock, global, body)
	path := filepath.Join(dir, "lvsd.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &lvsdProc{proc: startProc(t, h, "lvsd on "+h.Name(), dir, lvsdBin, "run", "-c", path), socket: sock}
	waitFor(t, 5*time.Second, "lvsd on "+h.Name()+" answers on its control socket", func() bool {
		if p.exited() {
			t.Fatalf("lvsd on %s exited:\n%s", h.Name(), p.out.String())
		}
		_, err := p.status()
		return err == nil
	})
	return p
}

type instanceStatus struct {
	Name              string            `json:"name"`
	State             string            `json:"state"`
	EffectivePriority int               `json:"effective_priority"`
	Master            string            `json:"master"`
	MasterInterval    string            `json:"master_interval"`
	AdvertsSent       uint64            `json:"adverts_sent"`
	AdvertsReceived   uint64            `json:"adverts_received"`
	Reasserts         uint64            `json:"reasserts"`
	Drops             map[string]uint64 `json:"drops"`
	Faults            []string          `json:"faults"`
	VIPs              []string          `json:"vips"`
}

type statusReply struct {
	Instances []instanceStatus `json:"instances"`
}

// status asks lvsd over its control socket, as `lvsd status --json` does.
func (p *lvsdProc) status() (*statusReply, error) {
	c, err := net.DialTimeout("unix", p.socket, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(`{"command":"status"}` + "\n")); err != nil {
		return nil, err
	}
	var reply struct {
		OK     bool         `json:"ok"`
		Error  string       `json:"error"`
		Status *statusReply `json:"status"`
	}
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		return nil, err
	}
	if !reply.OK {
		return nil, fmt.Errorf("%s", reply.Error)
	}
	return reply.Status, nil
}

// instance returns the status of the first instance.
func (p *lvsdProc) instance() instanceStatus {
	s, err := p.status()
	if err != nil || len(s.Instances) == 0 {
		return instanceStatus{}
	}
	return s.Instances[0]
}

func (p *lvsdProc) state() string { return p.instance().State }

// waitGARP waits for the first GARP for the VIP from mac after t0 and
// returns how long after t0 it came.
func waitGARP(t testing.TB, w *lab.ARPWatch, t0 time.Time, mac net.HardwareAddr, timeout time.Duration) time.Duration {
	t.Helper()
	var at time.Time
	waitFor(t, timeout, fmt.Sprintf("gratuitous ARP for %s from %s", vip, mac), func() bool {
		var ok bool
		at, ok = w.First(t0, vip, mac)
		return ok
	})
	return at.Sub(t0)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
