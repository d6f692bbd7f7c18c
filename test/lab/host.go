package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
)

// Host is a network namespace standing for one machine.
type Host struct {
	lab  *Lab
	name string
	sp   *space
	ifs  int // interfaces connected so far: the next is eth<ifs>
}

// Host makes a host: a new named network namespace with lo up.
func (l *Lab) Host(name string) *Host {
	l.t.Helper()
	sp := l.newSpace(kindHost, name)
	lo, err := sp.nl.LinkByName("lo")
	if err == nil {
		err = sp.nl.LinkSetUp(lo)
	}
	if err != nil {
		l.t.Fatalf("lab: host %s: bring lo up: %v", name, err)
	}
	return &Host{lab: l, name: name, sp: sp}
}

// Name is the host's name in the lab.
func (h *Host) Name() string { return h.name }

// Netns is the host's namespace name under /run/netns, for
// `ip netns exec` or keepalived's net_namespace.
func (h *Host) Netns() string { return h.sp.name }

// Do runs fn on an OS thread switched into the host's namespace and
// returns its error. Sockets fn opens stay in the host's namespace after
// Do returns; the caller's goroutine never changes namespace. t.Fatal in
// fn works as on the test goroutine when Do is called from it.
func (h *Host) Do(fn func() error) error {
	return inNetns(h.sp.ns, fn)
}

// Command is exec.CommandContext prepared for Start: the process gets its
// own process group (killed whole when ctx is done and at cleanup) and is
// SIGKILLed if the test process dies.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second // a grandchild holding stdout must not hang Wait
	return cmd
}

// Start starts cmd inside the host's namespace (no `ip netns exec`: the
// child is forked from a thread switched into it and inherits it). The
// process group is killed at the lab's cleanup if still running, as is
// any other process left in the namespace. Commands not made by Command
// are given their own process group and a parent-death signal too.
func (h *Host) Start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if !cmd.SysProcAttr.Setsid {
		cmd.SysProcAttr.Setpgid = true
	}
	if cmd.SysProcAttr.Pdeathsig == 0 {
		// Tied to the forking thread: the spawner's, which lives as long
		// as the test process (see spawn).
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	l := h.lab
	l.mu.Lock()
	defer l.mu.Unlock() // held across Start so close cannot miss the process
	if l.closed {
		return fmt.Errorf("lab: host %s: start %s: lab already cleaned up", h.name, cmd.Path)
	}
	if err := spawn(h.sp.ns, cmd); err != nil {
		return fmt.Errorf("lab: host %s: start %s: %w", h.name, cmd.Path, err)
	}
	l.procs = append(l.procs, cmd.Process)
	return nil
}

// Run starts cmd in the host's namespace and waits for it.
func (h *Host) Run(cmd *exec.Cmd) error {
	if err := h.Start(cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

// Sysctl writes a per-namespace net.* sysctl (dotted, or slashed when a
// component has a dot: "net/ipv4/conf/eth0.5/rp_filter") in the host.
func (h *Host) Sysctl(key, value string) error {
	path, err := sysctlPath(key)
	if err != nil {
		return fmt.Errorf("lab: host %s: %w", h.name, err)
	}
	// /proc/sys/net resolves against the opening thread's namespace.
	err = h.Do(func() error { return os.WriteFile(path, []byte(value), 0) })
	if err != nil {
		return fmt.Errorf("lab: host %s: sysctl %s=%s: %w", h.name, key, value, err)
	}
	return nil
}

// AddRoute adds a route to dst via gw in the host (0.0.0.0/0 for a
// default route).
func (h *Host) AddRoute(dst netip.Prefix, gw netip.Addr) error {
	r := &netlink.Route{Dst: ipNet(dst.Masked()), Gw: net.IP(gw.AsSlice())}
	if err := h.sp.nl.RouteAdd(r); err != nil {
		return fmt.Errorf("lab: host %s: route %s via %s: %w", h.name, dst, gw, err)
	}
	return nil
}

// Neighbor looks ip up in the host's neighbour (ARP/NDP) table: the
// link-layer address (nil while INCOMPLETE) and state of the first entry
// for ip; ok is false if there is none. A netlink failure fails the test
// (Errorf, so any goroutine may poll) and reports ok false.
func (h *Host) Neighbor(ip netip.Addr) (mac net.HardwareAddr, state NeighState, ok bool) {
	family := netlink.FAMILY_V4
	if ip.Is6() && !ip.Is4In6() {
		family = netlink.FAMILY_V6
	}
	var neighs []netlink.Neigh
	var err error
	for range 3 { // a dump racing a table change is interrupted; retry
		neighs, err = h.sp.nl.NeighList(0, family)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		h.lab.t.Errorf("lab: host %s: list neighbours: %v", h.name, err)
		return nil, 0, false
	}
	want := net.IP(ip.Unmap().AsSlice())
	for _, n := range neighs {
		if n.IP.Equal(want) {
			return n.HardwareAddr, NeighState(n.State), true
		}
	}
	return nil, 0, false
}

// NeighState is a neighbour entry's NUD state (REACHABLE, STALE…).
type NeighState int

func (s NeighState) String() string {
	switch s {
	case netlink.NUD_INCOMPLETE:
		return "INCOMPLETE"
	case netlink.NUD_REACHABLE:
		return "REACHABLE"
	case netlink.NUD_STALE:
		return "STALE"
	case netlink.NUD_DELAY:
		return "DELAY"
	case netlink.NUD_PROBE:
		return "PROBE"
	case netlink.NUD_FAILED:
		return "FAILED"
	case netlink.NUD_NOARP:
		return "NOARP"
	case netlink.NUD_PERMANENT:
		return "PERMANENT"
	case netlink.NUD_NONE:
		return "NONE"
	}
	return fmt.Sprintf("NeighState(%#x)", int(s))
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
