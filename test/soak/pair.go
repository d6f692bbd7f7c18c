package soak

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/vrrp"
)

// Variant is the pair under test.
type Variant struct {
	Name       string // in the report
	Test       string // the test that runs it, for the replay line
	Keepalived bool   // dir-b runs keepalived instead of lvsd
}

// The variants.
var (
	PairLvsd       = Variant{Name: "lvsd pair", Test: "TestSoak$"}
	PairKeepalived = Variant{Name: "lvsd (dir-a) and keepalived (dir-b)", Test: "TestSoakKeepalived", Keepalived: true}
)

// The pair's VRRP settings: the e2e tier's (v3, a 500 ms interval,
// priorities 150 and 100), so its failover bounds hold here too.
const (
	advert = 500 * time.Millisecond
	prioA  = 150
	prioB  = 100
)

var (
	vipPrefix = netip.MustParsePrefix("192.0.2.100/24")
	vip       = vipPrefix.Addr()
	addrs     = map[string]netip.Prefix{
		"dir-a": netip.MustParsePrefix("192.0.2.11/24"),
		"dir-b": netip.MustParsePrefix("192.0.2.12/24"),
		"obs":   netip.MustParsePrefix("192.0.2.50/24"),
	}
)

// settle is how long the soak waits after a fault before it checks: the
// backup's master_down (itself 3 intervals + skew), its skew again, and
// 500 ms for processes on a loaded machine (the bound).
var settle = vrrp.MasterDown(vrrp.V3, prioB, advert) + vrrp.Skew(vrrp.V3, prioB, advert) + 500*time.Millisecond

// lvsdConfig is an lvsd director's file; garpRepeat is what a valid
// reload toggles (an in-place update of the instance).
func lvsdConfig(prio, garpRepeat int) string {
	return "vrrp \"VI_1\" {\n" +
		"  interface = \"eth0\"\n  virtual_router_id = 51\n" +
		fmt.Sprintf("  priority = %d\n  advert_interval = %q\n  virtual_ips = [%q]\n", prio, advert, vipPrefix) +
		fmt.Sprintf("  garp {\n    delay = \"2s\"\n    repeat = %d\n  }\n}\n", garpRepeat)
}

// keepalivedConfig is the same instance for keepalived (VRRP only).
func keepalivedConfig(routerID string, prio int) string {
	return fmt.Sprintf(`global_defs {
  router_id %s
  vrrp_version 3
  vrrp_garp_master_delay 2
  vrrp_garp_master_repeat 2
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority %d
  advert_int %g
  virtual_ipaddress {
    %s
  }
}
`, routerID, prio, advert.Seconds(), vipPrefix)
}

// node is one director of the pair.
type node struct {
	name string
	host *lab.Host
	link *lab.Link
	prio int
	lvsd *lvsdtest.Daemon // nil: keepalived runs here
	ka   *lvsdtest.Process

	usage    DaemonUsage // the current lvsd's first reading
	longest  DaemonUsage // the earlier lvsd run here through the most faults
	measured bool        // usage holds a reading of the current process
	since    string      // what (re)started the process, until it is measured
}

func (n *node) proc() *lvsdtest.Process {
	if n.lvsd != nil {
		return n.lvsd.Process
	}
	return n.ka
}

// pair is the lab: two directors and an observer.
type pair struct {
	t     testing.TB
	v     Variant
	bin   string
	nodes []*node // dir-a (prio 150, lvsd), dir-b (prio 100)
	obs   *lab.Host
	arps  *lab.ARPWatch // gratuitous ARP seen by the observer
}

func newPair(t testing.TB, v Variant) *pair {
	t.Helper()
	l := lab.New(t)
	lan := l.Network("lan")
	p := &pair{t: t, v: v, bin: lvsdtest.MustBinary(t)}
	for _, d := range []struct {
		name string
		prio int
	}{{"dir-a", prioA}, {"dir-b", prioB}} {
		h := l.Host(d.name)
		p.nodes = append(p.nodes, &node{name: d.name, host: h, prio: d.prio, link: h.Connect(lan, addrs[d.name])})
	}
	p.obs = l.Host("obs")
	p.arps = p.obs.WatchARP(t, p.obs.Connect(lan, addrs["obs"]).Name())
	return p
}

// start runs n's daemon for the first time, or again after a kill.
func (p *pair) start(n *node, why string) {
	p.t.Helper()
	n.measured, n.since = false, why
	switch {
	case n.lvsd != nil:
		n.lvsd.Restart()
	case n.name == "dir-b" && p.v.Keepalived:
		n.ka = p.startKeepalived(n)
	default:
		n.lvsd = lvsdtest.Start(p.t, n.host, lvsdConfig(n.prio, 2))
	}
}

// startKeepalived runs Debian's keepalived, VRRP only, in the
// foreground with its logs on the console, files in a fresh folder.
func (p *pair) startKeepalived(n *node) *lvsdtest.Process {
	dir := p.t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(file("keepalived.conf"), []byte(keepalivedConfig("ka-"+n.name, n.prio)), 0o644); err != nil {
		p.t.Fatal(err)
	}
	argv := []string{"/usr/sbin/keepalived", "--vrrp", "--dont-fork", "--no-syslog", "--log-console",
		"-f", file("keepalived.conf"), "-p", file("keepalived.pid"), "-r", file("vrrp.pid")}
	return lvsdtest.StartProcess(p.t, n.host, "keepalived on "+n.name, argv...)
}

// holders are the directors whose eth0 has the VIP, in name order.
func (p *pair) holders() []*node {
	var out []*node
	for _, n := range p.nodes {
		held, err := n.host.HasAddr("eth0", vip)
		if err != nil {
			p.t.Logf("soak: reading %s's addresses: %v", n.name, err)
		}
		if held {
			out = append(out, n)
		}
	}
	return out
}

func names(ns []*node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.name
	}
	return out
}

// sole is the one holder of the VIP, or nil.
func (p *pair) sole() *node {
	if h := p.holders(); len(h) == 1 {
		return h[0]
	}
	return nil
}

// other is the director that is not n.
func (p *pair) other(n *node) *node {
	if p.nodes[0] == n {
		return p.nodes[1]
	}
	return p.nodes[0]
}

// run runs argv in h, as an operator's shell there would, bounded in
// time, and returns its combined output.
func (p *pair) run(h *lab.Host, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := h.Command(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := h.Run(cmd)
	return strings.TrimSpace(out.String()), err
}

// learnVIP makes the observer forget the VIP and resolve it afresh, so
// that its entry is the one gratuitous ARP must then move.
func (p *pair) learnVIP() {
	p.t.Helper()
	if out, err := p.run(p.obs, "ip", "neigh", "flush", "dev", "eth0"); err != nil {
		p.t.Fatalf("soak: flush the observer's neighbours: %v: %s", err, out)
	}
	err := p.obs.Do(func() error { // one datagram to the discard port
		c, err := net.Dial("udp4", netip.AddrPortFrom(vip, 9).String())
		if err == nil {
			_, err = c.Write([]byte("soak"))
			c.Close()
		}
		return err
	})
	if err != nil {
		p.t.Fatalf("soak: observer to the VIP: %v", err)
	}
	lvsdtest.WaitFor(p.t, 3*time.Second, "the observer resolves the VIP", func() bool {
		mac, _, ok := p.obs.Neighbor(vip)
		return ok && mac != nil
	})
}

// macOwner names the director whose eth0 has mac.
func (p *pair) macOwner(mac net.HardwareAddr) string {
	for _, n := range p.nodes {
		if bytes.Equal(n.link.MAC(), mac) {
			return n.name
		}
	}
	return "nobody"
}

// check is the invariant, after a fault has settled: every daemon runs,
// one director holds the VIP, the observer's entry points at it, and no
// lvsd reports MASTER without it.
func (p *pair) check() []string {
	var problems []string
	for _, n := range p.nodes {
		if proc := n.proc(); proc.Exited() {
			problems = append(problems, fmt.Sprintf("%s died, and the fault did not kill it; its last output:\n%s", proc.Name(), tail(proc.Output(), 8)))
		}
	}
	holders := p.holders()
	if len(holders) != 1 {
		problems = append(problems, fmt.Sprintf("the VIP is held by %d directors %v, want exactly one", len(holders), names(holders)))
	} else if mac, state, ok := p.obs.Neighbor(vip); !ok {
		problems = append(problems, "the observer has no neighbour entry for the VIP")
	} else if h := holders[0]; !bytes.Equal(mac, h.link.MAC()) {
		problems = append(problems, fmt.Sprintf("the observer's entry for the VIP is %s (%s's, %s), the holder is %s (%s)", mac, p.macOwner(mac), state, h.name, h.link.MAC()))
	}
	for _, n := range p.nodes {
		if n.lvsd == nil || n.lvsd.Exited() {
			continue
		}
		st, err := n.lvsd.Status()
		if err != nil {
			problems = append(problems, fmt.Sprintf("lvsd on %s does not answer status: %v", n.name, err))
			continue
		}
		for _, in := range st.Instances {
			if in.State == "MASTER" && !slices.Contains(holders, n) {
				problems = append(problems, fmt.Sprintf("lvsd on %s reports %s MASTER without the VIP", n.name, in.Name))
			}
		}
	}
	return problems
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "    " + strings.Join(l[max(0, len(l)-lines):], "\n    ")
}
