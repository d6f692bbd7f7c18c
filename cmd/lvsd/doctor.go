package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
)

// lvsd doctor checks this host for the pitfalls that make an IPVS
// director pair or its real servers fail silently. It reads the host
// through doctorHost, so that every finding is tested with a fake host;
// doctor_linux.go reads the kernel.

// doctorHost is what doctor reads of the host.
type doctorHost interface {
	// Sysctl reads /proc/sys/<key>; key is slash-separated
	// ("net/ipv4/conf/eth0/rp_filter").
	Sysctl(key string) (string, error)
	// IPVS says whether the kernel has IPVS and, if not, why.
	IPVS() doctorIPVS
	// Links are the interfaces with their addresses.
	Links() ([]doctorLink, error)
	// RouteTo is the interface this host sends to ip by.
	RouteTo(ip netip.Addr) (string, error)
	// DefaultRoutes are the interfaces of the default routes of a family.
	DefaultRoutes(v6 bool) ([]string, error)
	// Daemon is the status of the lvsd answering on socket; an error if
	// none answers.
	Daemon(socket string) (*statusReply, error)
	// Ruleset is `nft -j list ruleset`; the error says why it cannot be
	// read (no nft, no permission).
	Ruleset() ([]byte, error)
	// LegacyFilter is the legacy (x_tables) filter table of a family, as
	// iptables-legacy-save prints it; the error says why it cannot be
	// read when the kernel has it.
	LegacyFilter(v6 bool) (legacyFilter, error)
	// Processes are the pids of the processes named name in this
	// network namespace.
	Processes(name string) ([]int, error)
	// Listen collects the VRRP adverts heard on the interfaces for d.
	Listen(on []doctorListen, d time.Duration) ([]doctorAdvert, error)
}

// doctorIPVS is the kernel's IPVS as doctor sees it.
type doctorIPVS struct {
	Loaded   bool
	Loadable bool   // not loaded, but an ip_vs module is installed
	Kernel   string // release, e.g. 6.1.0-18-amd64
	Detail   string // why it is absent, in the operator's words
}

// doctorLink is one interface.
type doctorLink struct {
	Name     string
	Kind     string // netlink kind: device, veth, ipip, dummy…
	Up       bool   // administratively up
	Carrier  bool   // lower layer up
	Loopback bool
	NoARP    bool
	Addrs    []netip.Prefix
}

// doctorListen is an interface and family to listen for VRRP on.
type doctorListen struct {
	Interface string
	IPv6      bool
}

// doctorAdvert is one VRRP advert heard on the wire.
type doctorAdvert struct {
	Interface string
	Src       netip.Addr
	TTL       int
	Advert    vrrp.Advert
}

// doctorTunnelKinds are the devices that decapsulate IPVS TUN packets.
var doctorTunnelKinds = []string{"ipip", "ip6tnl", "sit", "gre", "ip6gre"}

type doctorSeverity uint8

const (
	doctorOK doctorSeverity = iota
	doctorWarning
	doctorProblem
)

func (s doctorSeverity) String() string {
	return [...]string{"ok", "warning", "PROBLEM"}[s]
}

// doctorFinding is one line of the report: what was found and, when it
// is wrong, the command that fixes it.
type doctorFinding struct {
	Severity doctorSeverity
	What     string
	Fix      string
}

func (f doctorFinding) String() string {
	s := f.Severity.String() + ": " + f.What
	if f.Fix != "" {
		s += " — fix: " + f.Fix
	}
	return s
}

// doctor runs the checks and writes each finding as it is made.
type doctor struct {
	host     doctorHost
	out      io.Writer
	findings []doctorFinding
	sysctlFx bool // a fix is a sysctl -w: say how to keep it

	links    []doctorLink
	linksErr error
	loaded   bool
}

func (d *doctor) add(sev doctorSeverity, fix, format string, args ...any) {
	f := doctorFinding{Severity: sev, What: fmt.Sprintf(format, args...), Fix: fix}
	if sev != doctorOK && strings.HasPrefix(fix, "sysctl -w") {
		d.sysctlFx = true
	}
	d.findings = append(d.findings, f)
	if d.out != nil {
		fmt.Fprintln(d.out, f)
	}
}

func (d *doctor) ok(format string, args ...any) { d.add(doctorOK, "", format, args...) }
func (d *doctor) warn(fix, format string, args ...any) {
	d.add(doctorWarning, fix, format, args...)
}
func (d *doctor) problem(fix, format string, args ...any) {
	d.add(doctorProblem, fix, format, args...)
}

func (d *doctor) count(sev doctorSeverity) int {
	n := 0
	for _, f := range d.findings {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

func cmdDoctor(args []string, stdout, stderr io.Writer) int {
	return runDoctor(args, stdout, stderr, newDoctorHost())
}

func runDoctor(args []string, stdout, stderr io.Writer, host doctorHost) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", DefaultConfig, "check this host as the director of configuration `FILE`")
	listen := fs.Duration("listen", 0, "listen this long for VRRP adverts of other routers using our VRIDs (0: skip)")
	var vips []netip.Addr
	fs.Func("real-server", "check this host as a real server for `VIP` (repeat, or a comma list)", func(s string) error {
		for _, f := range strings.Split(s, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			ip, err := netip.ParseAddr(f)
			if err != nil {
				p, perr := netip.ParsePrefix(f)
				if perr != nil {
					return fmt.Errorf("%q is not an IP address", f)
				}
				ip = p.Addr()
			}
			vips = append(vips, ip.Unmap())
		}
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd doctor [-c FILE] [--listen D] [--real-server VIP[,VIP…]]\n\n"+
			"Checks this host, as the director of FILE or as a real server for VIP, for the\n"+
			"known pitfalls. Prints one line per check: ok|PROBLEM|warning: what — fix: command.\n"+
			"Exit 0 when there is no PROBLEM, 1 when there is.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 || *listen < 0 {
		fs.Usage()
		return exitUsage
	}
	explicitFile := false
	fs.Visit(func(f *flag.Flag) { explicitFile = explicitFile || f.Name == "c" })
	asDirector := explicitFile || len(vips) == 0
	if asDirector && !explicitFile {
		if _, err := os.Stat(*file); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "lvsd doctor: no configuration at %s: give -c FILE on a director, or --real-server VIP on a real server\n", *file)
			return exitUsage
		}
	}

	d := &doctor{host: host, out: stdout}
	if asDirector {
		cfg, diags := conf.Load(*file)
		if diags.HasErrors() {
			n := len(diags.Errs())
			d.problem("lvsd check -c "+*file, "%s is invalid (%d %s): the director checks need a valid file", *file, n, plural(n, "problem", "problems"))
		} else {
			d.ok("%s is valid: %d %s, %d %s", *file,
				len(cfg.Instances), plural(len(cfg.Instances), "VRRP instance", "VRRP instances"),
				len(cfg.VirtualServers), plural(len(cfg.VirtualServers), "virtual server", "virtual servers"))
			d.director(cfg, *listen)
		}
	}
	if len(vips) > 0 {
		d.realServer(vips)
	}

	p, w := d.count(doctorProblem), d.count(doctorWarning)
	summary := fmt.Sprintf("lvsd doctor: %d %s, %d %s", p, plural(p, "problem", "problems"), w, plural(w, "warning", "warnings"))
	if d.sysctlFx {
		summary += " (sysctl -w lasts until reboot: keep the settings in /etc/sysctl.d/90-lvsd.conf)"
	}
	fmt.Fprintln(stdout, summary)
	if p > 0 {
		return exitFail
	}
	return exitOK
}

// director runs the checks of a director of cfg.
func (d *doctor) director(cfg *conf.Config, listen time.Duration) {
	d.checkIPVS(cfg)
	d.checkForwarding(cfg)
	d.checkInterfaces(cfg)
	d.checkRPFilter(cfg)
	d.checkVIPsHeld(cfg)
	d.checkKeepalived(cfg)
	d.checkFirewall(cfg)
	d.checkLegacyFirewall(cfg)
	d.checkVRIDs(cfg, listen)
}

// --- host helpers -----------------------------------------------------

func (d *doctor) allLinks() ([]doctorLink, error) {
	if !d.loaded {
		d.links, d.linksErr = d.host.Links()
		d.loaded = true
	}
	return d.links, d.linksErr
}

func (d *doctor) link(name string) (doctorLink, bool) {
	links, _ := d.allLinks()
	for _, l := range links {
		if l.Name == name {
			return l, true
		}
	}
	return doctorLink{}, false
}

// holders are the interfaces that have ip, with the prefix it has there.
func (d *doctor) holders(ip netip.Addr) []doctorHeld {
	links, _ := d.allLinks()
	var out []doctorHeld
	for _, l := range links {
		for _, p := range l.Addrs {
			if p.Addr().Unmap() == ip {
				out = append(out, doctorHeld{l, p})
			}
		}
	}
	return out
}

type doctorHeld struct {
	link   doctorLink
	prefix netip.Prefix
}

func (d *doctor) isLocal(ip netip.Addr) bool { return len(d.holders(ip)) > 0 }

// doctorSysctlName is the name of a sysctl as `sysctl -w` takes it: dotted,
// unless a component (an interface name like eth0.5) has a dot itself.
func doctorSysctlName(key string) string {
	parts := strings.Split(key, "/")
	for _, p := range parts {
		if strings.Contains(p, ".") {
			return key
		}
	}
	return strings.Join(parts, ".")
}

func doctorConfKey(family, iface, name string) string {
	return "net/" + family + "/conf/" + iface + "/" + name
}

// sysctlInt reads an integer sysctl.
func (d *doctor) sysctlInt(key string) (int, error) {
	s, err := d.host.Sysctl(key)
	if err != nil {
		return 0, fmt.Errorf("cannot read %s: %w", doctorSysctlName(key), err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("cannot read %s: %q is not a number", doctorSysctlName(key), s)
	}
	return n, nil
}

// doctorConf is an IPv4 per-interface setting: the value of "all", of the
// interface, and the effective one, which for rp_filter, arp_ignore and
// arp_announce is the larger of the two.
type doctorConf struct {
	name      string // rp_filter…
	iface     string
	all, dev  int
	effective int
}

func (d *doctor) confMax(name, iface string) (doctorConf, error) {
	all, err := d.sysctlInt(doctorConfKey("ipv4", "all", name))
	if err != nil {
		return doctorConf{}, err
	}
	dev, err := d.sysctlInt(doctorConfKey("ipv4", iface, name))
	if err != nil {
		return doctorConf{}, err
	}
	return doctorConf{name: name, iface: iface, all: all, dev: dev, effective: max(all, dev)}, nil
}

// explain says the effective value and where it comes from; label
// names the value ("strict").
func (c doctorConf) explain(label string) string {
	if label != "" {
		label += ": "
	}
	return fmt.Sprintf("%s on %s is %d (%sthe larger of all=%d and %s=%d)", c.name, c.iface, c.effective, label, c.all, c.iface, c.dev)
}

// doctorSysctlFix is `sysctl -w k=v …` for the keys in order.
func doctorSysctlFix(kv ...string) string {
	var b strings.Builder
	b.WriteString("sysctl -w")
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %s=%s", doctorSysctlName(kv[i]), kv[i+1])
	}
	return b.String()
}

func doctorAddrs(ips []netip.Addr) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ", ")
}

func doctorVIPAddrs(ps []netip.Prefix) []netip.Addr {
	out := make([]netip.Addr, len(ps))
	for i, p := range ps {
		out[i] = p.Addr().Unmap()
	}
	return out
}

// --- director checks --------------------------------------------------

// checkIPVS: virtual servers and the connection sync daemon are IPVS.
func (d *doctor) checkIPVS(cfg *conf.Config) {
	needs := len(cfg.VirtualServers) > 0 || cfg.ConnectionSync != nil
	if !needs {
		d.ok("IPVS not needed: %s has no virtual servers and no connection_sync", cfg.File)
		return
	}
	what := fmt.Sprintf("%d %s", len(cfg.VirtualServers), plural(len(cfg.VirtualServers), "virtual server", "virtual servers"))
	if cfg.ConnectionSync != nil {
		what += " and connection_sync"
	}
	st := d.host.IPVS()
	switch {
	case st.Loaded:
		d.ok("IPVS is loaded in this kernel (needed for %s)", what)
	case st.Loadable:
		d.problem("modprobe ip_vs && echo ip_vs > /etc/modules-load.d/ip_vs.conf",
			"IPVS is not loaded (%s): lvsd run cannot program the %s", st.Detail, what)
	default:
		d.problem("boot a kernel built with CONFIG_IP_VS=m or =y (Debian: apt-get install linux-image-amd64)",
			"this kernel (%s) has no IPVS: %s; lvsd run refuses to start with %s", st.Kernel, st.Detail, what)
	}
}

// checkForwarding: NAT sends the real servers' replies back through the
// director, which the kernel drops unless it forwards.
func (d *doctor) checkForwarding(cfg *conf.Config) {
	nat := map[bool][]string{} // by IPv6: the virtual servers with NAT
	for _, vs := range cfg.VirtualServers {
		v6 := vs.Service.IPv6 || vs.Service.Address.Is6()
		uses := vs.SorryServer != nil && vs.SorryServer.Forwarding == ipvs.NAT
		for _, rs := range vs.RealServers {
			uses = uses || rs.Destination.Forwarding == ipvs.NAT
		}
		if uses {
			nat[v6] = append(nat[v6], vs.Name)
		}
	}
	if len(nat) == 0 {
		d.ok("IP forwarding not needed: no real server uses NAT")
		return
	}
	for _, v6 := range []bool{false, true} {
		names := nat[v6]
		if len(names) == 0 {
			continue
		}
		key := "net/ipv4/ip_forward"
		if v6 {
			key = "net/ipv6/conf/all/forwarding"
		}
		n, err := d.sysctlInt(key)
		switch {
		case err != nil:
			d.warn("", "%v (needed for NAT in %s)", err, strings.Join(names, ", "))
		case n != 1:
			d.problem(doctorSysctlFix(key, "1"),
				"%s is %d but %s %s NAT: the real servers' replies come back through this director, which drops them unless it forwards",
				doctorSysctlName(key), n, strings.Join(names, ", "), plural(len(names), "uses", "use"))
		default:
			d.ok("%s is 1 (NAT in %s)", doctorSysctlName(key), strings.Join(names, ", "))
		}
	}
}

// checkInterfaces: every interface an instance speaks on exists, is up,
// has carrier and an address to send adverts from.
func (d *doctor) checkInterfaces(cfg *conf.Config) {
	if _, err := d.allLinks(); err != nil {
		d.warn("ip -br addr", "cannot list the interfaces: %v", err)
		return
	}
	for _, in := range cfg.Instances {
		l, ok := d.link(in.Interface)
		if !ok {
			d.problem("ip link show", "interface %s of %s does not exist: lvsd run refuses to start (correct the name in %s)", in.Interface, in.Name, cfg.File)
			continue
		}
		if !l.Up {
			d.problem("ip link set dev "+l.Name+" up", "interface %s of %s is down: %s can neither hear nor send adverts", l.Name, in.Name, in.Name)
			continue
		}
		if !l.Carrier {
			d.problem("", "interface %s of %s is up but has no carrier (cable, switch port or peer down): %s stays in FAULT", l.Name, in.Name, in.Name)
			continue
		}
		src, why := d.advertSource(in, l)
		if !src.IsValid() {
			d.problem("ip addr add ADDRESS/PREFIX dev "+l.Name, "%s: %s", in.Name, why)
			continue
		}
		d.ok("interface %s of %s is up with carrier; adverts go from %s", l.Name, in.Name, src)
	}
	for _, in := range cfg.Instances {
		for _, name := range in.TrackInterfaces {
			l, ok := d.link(name)
			switch {
			case !ok:
				d.problem("ip link show", "tracked interface %s of %s does not exist: lvsd run refuses to start", name, in.Name)
			case !l.Up || !l.Carrier:
				fix := ""
				if !l.Up {
					fix = "ip link set dev " + name + " up"
				}
				d.warn(fix, "tracked interface %s of %s is down: %s would start in FAULT", name, in.Name, in.Name)
			}
		}
	}
	if cs := cfg.ConnectionSync; cs != nil {
		name := cs.Daemon.Interface
		l, ok := d.link(name)
		switch {
		case !ok:
			d.problem("ip link show", "interface %s of connection_sync does not exist: the sync daemon cannot start", name)
		case !l.Up || !l.Carrier:
			d.problem("ip link set dev "+name+" up", "interface %s of connection_sync is down: the backup learns no connections", name)
		default:
			d.ok("interface %s of connection_sync is up", name)
		}
	}
}

// advertSource is the address the daemon would send in's adverts from
// (vrrp.ChooseSource), or why there is none.
func (d *doctor) advertSource(in vrrp.Config, l doctorLink) (netip.Addr, string) {
	var addrs []netip.Addr
	for _, p := range l.Addrs {
		addrs = append(addrs, p.Addr())
	}
	src, err := vrrp.ChooseSource(&in, addrs)
	if err != nil {
		return netip.Addr{}, err.Error()
	}
	return src, ""
}

// checkRPFilter: strict reverse-path filtering (1) drops packets that
// arrive on an interface other than the one the route back leaves by.
// On the VRRP interface that is adverts from unicast peers routed
// elsewhere (both directors become MASTER) and client packets for the
// VIPs from sources the default route sends elsewhere (IPVS never sees
// them, whether it forwards by NAT, DR or TUN).
func (d *doctor) checkRPFilter(cfg *conf.Config) {
	seen := map[string]bool{}
	for _, in := range cfg.Instances {
		if in.IPv6() || seen[in.Interface] {
			continue // IPv6 has no rp_filter sysctl
		}
		seen[in.Interface] = true
		if _, ok := d.link(in.Interface); !ok {
			continue
		}
		c, err := d.confMax("rp_filter", in.Interface)
		if err != nil {
			d.warn("", "%v", err)
			continue
		}
		if c.effective != 1 {
			mode := "off"
			if c.effective == 2 {
				mode = "loose"
			}
			d.ok("%s: adverts and client packets on it are not dropped by source validation", c.explain(mode))
			continue
		}
		fix := doctorRPFilterFix(c)
		bad := false
		for _, peer := range in.UnicastPeers {
			via, err := d.host.RouteTo(peer)
			if err != nil || via == in.Interface {
				continue
			}
			bad = true
			d.problem(fix, "%s and the route back to unicast peer %s of %s leaves by %s: the kernel drops its adverts arriving on %s, so both directors become MASTER",
				c.explain("strict"), peer, in.Name, via, in.Interface)
		}
		if bad {
			continue
		}
		defaults, _ := d.host.DefaultRoutes(false)
		if len(defaults) > 0 && !slices.Contains(defaults, in.Interface) {
			d.warn(fix, "%s and the default route leaves by %s: packets for the VIPs of %s from clients not routed back via %s are dropped before IPVS sees them",
				c.explain("strict"), strings.Join(defaults, ","), in.Name, in.Interface)
			continue
		}
		d.ok("%s: harmless here, the peers and the default route are reached via %s", c.explain("strict"), in.Interface)
	}
}

func doctorRPFilterFix(c doctorConf) string {
	var kv []string
	if c.all == 1 {
		kv = append(kv, doctorConfKey("ipv4", "all", "rp_filter"), "2")
	}
	if c.dev == 1 {
		kv = append(kv, doctorConfKey("ipv4", c.iface, "rp_filter"), "2")
	}
	return doctorSysctlFix(kv...)
}

// checkVIPsHeld: lvsd adds the VIPs when it becomes MASTER and removes
// them otherwise. A VIP on this host that lvsd does not hold as MASTER
// is held by something else (a static address, keepalived), and the
// host answers ARP for it even while the peer is MASTER.
func (d *doctor) checkVIPsHeld(cfg *conf.Config) {
	if len(cfg.Instances) == 0 {
		return
	}
	if _, err := d.allLinks(); err != nil {
		return // reported by checkInterfaces
	}
	sock := cfg.Global.ControlSocket
	st, err := d.host.Daemon(sock)
	unknown := err != nil && errors.Is(err, os.ErrPermission)
	states := map[string]string{}
	if err == nil && st != nil {
		for _, in := range st.Instances {
			states[in.Name] = in.State
		}
	}
	running := err == nil
	for _, in := range cfg.Instances {
		vips := append(slices.Clone(in.VIPs), in.VIPsExcluded...)
		clean := true
		for _, v := range vips {
			for _, h := range d.holders(v.Addr().Unmap()) {
				state := states[in.Name]
				if running && state == "MASTER" && h.link.Name == in.Interface {
					continue
				}
				clean = false
				var why string
				switch {
				case h.link.Name != in.Interface:
					why = fmt.Sprintf("not on %s where lvsd puts it", in.Interface)
				case unknown:
					why = fmt.Sprintf("lvsd at %s cannot be asked (%v), so it may not be lvsd's", sock, err)
				case !running:
					why = "lvsd is not running"
				default:
					why = fmt.Sprintf("lvsd has %s in %s, not MASTER", in.Name, strings.ToUpper(state))
				}
				msg := fmt.Sprintf("VIP %s of %s is on %s but %s: something else holds it (a static address in the network configuration, keepalived?) and this host answers ARP for it while the peer is MASTER; remove it from that configuration too",
					v.Addr(), in.Name, h.link.Name, why)
				fix := "ip addr del " + h.prefix.String() + " dev " + h.link.Name
				if unknown {
					d.warn(fix, "%s", msg)
				} else {
					d.problem(fix, "%s", msg)
				}
			}
		}
		if !clean {
			continue
		}
		switch {
		case running && states[in.Name] == "MASTER":
			d.ok("VIPs of %s (%s) are held only by the running lvsd, which is MASTER", in.Name, doctorAddrs(doctorVIPAddrs(vips)))
		case running:
			d.ok("VIPs of %s (%s) are not on this host; the running lvsd has it in %s", in.Name, doctorAddrs(doctorVIPAddrs(vips)), cmp.Or(states[in.Name], "no state"))
		default:
			d.ok("VIPs of %s (%s) are not on this host outside lvsd", in.Name, doctorAddrs(doctorVIPAddrs(vips)))
		}
	}
}

// checkKeepalived: lvsd replaces keepalived; both speaking VRRP for the
// same VRIDs fight over the VIPs.
func (d *doctor) checkKeepalived(cfg *conf.Config) {
	if len(cfg.Instances) == 0 {
		return
	}
	pids, err := d.host.Processes("keepalived")
	if err != nil || len(pids) == 0 {
		return
	}
	ps := make([]string, len(pids))
	for i, p := range pids {
		ps[i] = strconv.Itoa(p)
	}
	d.warn("systemctl disable --now keepalived", "keepalived runs in this network namespace (pid %s): with lvsd for the same VRIDs, two VRRP speakers fight over the VIPs", strings.Join(ps, ", "))
}

// checkFirewall: VRRP is IP protocol 112; an input policy that drops
// what it does not know drops the peer's adverts and both become MASTER.
func (d *doctor) checkFirewall(cfg *conf.Config) {
	if len(cfg.Instances) == 0 {
		return
	}
	data, err := d.host.Ruleset()
	if err != nil {
		d.warn("", "firewall check for VRRP (IP protocol 112) skipped: %v", err)
		return
	}
	rs, err := parseNftRuleset(data)
	if err != nil {
		d.warn("nft list ruleset", "firewall check for VRRP skipped: cannot read the output of nft -j list ruleset: %v", err)
		return
	}
	type target struct {
		iface string
		v6    bool
	}
	var seen []target
	for _, in := range cfg.Instances {
		t := target{in.Interface, in.IPv6()}
		if slices.Contains(seen, t) {
			continue
		}
		seen = append(seen, t)
		fam := "IPv4"
		if t.v6 {
			fam = "IPv6"
		}
		v := rs.vrrpVerdict(t.iface, t.v6)
		switch {
		case len(v.drops) > 0:
			var fixes []string
			for _, c := range v.drops {
				fixes = append(fixes, c.fix)
			}
			d.problem(strings.Join(fixes, " && "), "nftables drops VRRP (%s, IP protocol 112) arriving on %s: %s; the peer's adverts never reach lvsd and both directors become MASTER (keep the fix in /etc/nftables.conf)",
				fam, t.iface, v.drops[0].by)
		case len(v.maybe) > 0:
			d.warn("nft -a list ruleset", "nftables may drop VRRP (%s) arriving on %s: %s, under conditions doctor cannot evaluate; make sure the peers' adverts pass", fam, t.iface, v.maybe[0].by)
		case len(v.accepted) > 0:
			d.ok("nftables accepts VRRP (%s) arriving on %s %s", fam, t.iface, v.accepted[0])
		case v.chains == 0:
			d.ok("nftables has no input chains: VRRP (%s) arriving on %s is not filtered", fam, t.iface)
		default:
			d.ok("nftables does not drop VRRP (%s) arriving on %s (%d input %s inspected)", fam, t.iface, v.chains, plural(v.chains, "chain", "chains"))
		}
	}
}

// checkVRIDs listens for adverts from other routers using our VRIDs:
// two virtual routers with one VRID on a link drop each other's adverts
// (their addresses differ) and fight over the VIPs.
func (d *doctor) checkVRIDs(cfg *conf.Config, listen time.Duration) {
	if len(cfg.Instances) == 0 {
		return
	}
	if listen == 0 {
		d.warn(fmt.Sprintf("lvsd doctor -c %s --listen 5s", cfg.File), "duplicate VRIDs on the wire not checked: listening is off (--listen 0)")
		return
	}
	var on []doctorListen
	var longest time.Duration
	for _, in := range cfg.Instances {
		l := doctorListen{in.Interface, in.IPv6()}
		if !slices.Contains(on, l) {
			if _, ok := d.link(l.Interface); ok {
				on = append(on, l)
			}
		}
		longest = max(longest, in.AdvertInterval)
	}
	if len(on) == 0 {
		return
	}
	heard, err := d.host.Listen(on, listen)
	if err != nil {
		d.warn("", "listening for VRRP adverts: %v", err)
	}
	if listen < 3*longest {
		d.warn(fmt.Sprintf("lvsd doctor -c %s --listen %s", cfg.File, 3*longest), "listened %s, less than 3 advert intervals (%s): a router advertising slowly may have been missed", listen, longest)
	}
	for _, in := range cfg.Instances {
		mine := doctorVIPAddrs(in.VIPs)
		var peers []string
		others := map[uint8]bool{}
		clash := false
		for _, h := range heard {
			if h.Interface != in.Interface || h.Src.Is6() != in.IPv6() || h.TTL != vrrp.TTL || d.isLocal(h.Src) {
				continue
			}
			a := h.Advert
			if a.VRID != in.VRID {
				others[a.VRID] = true
				continue
			}
			if !doctorSameAddrs(a.Addrs, mine) {
				if clash {
					continue // one line per instance is enough
				}
				clash = true
				d.problem("", "%s advertises VRID %d on %s with %s, not the VIPs of %s (%s): two virtual routers share VRID %d on this link and drop each other's adverts; set virtual_router_id of %s to a VRID nobody uses there",
					h.Src, a.VRID, in.Interface, doctorAddrs(a.Addrs), in.Name, doctorAddrs(mine), a.VRID, in.Name)
				continue
			}
			if a.Version != in.Version {
				d.warn("", "peer %s advertises VRID %d on %s as VRRP %s, %s speaks %s: each drops the other's adverts and both become MASTER; give both the same version",
					h.Src, a.VRID, in.Interface, a.Version, in.Name, in.Version)
			}
			if !slices.Contains(peers, h.Src.String()) {
				peers = append(peers, h.Src.String())
			}
		}
		if clash {
			continue
		}
		what := "heard no other router with it"
		if len(peers) > 0 {
			what = "heard it only from " + strings.Join(peers, ", ") + " with the same VIPs (the peer)"
		}
		if len(others) > 0 {
			var vs []int
			for v := range others {
				vs = append(vs, int(v))
			}
			slices.Sort(vs)
			what += fmt.Sprintf("; other VRIDs in use on %s: %s", in.Interface, strings.Trim(fmt.Sprint(vs), "[]"))
		}
		d.ok("VRID %d of %s on %s: listened %s, %s", in.VRID, in.Name, in.Interface, listen, what)
	}
}

func doctorSameAddrs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x.Unmap()) {
			return false
		}
	}
	return true
}

// --- real server checks -----------------------------------------------

// realServer checks this host as a real server for the VIPs: a DR real
// server holds the VIP on lo, a TUN one on its tunnel device, both as
// /32, and neither answers ARP for it.
func (d *doctor) realServer(vips []netip.Addr) {
	if _, err := d.allLinks(); err != nil {
		d.problem("ip -br addr", "cannot list the interfaces: %v", err)
		return
	}
	var v4 []netip.Addr
	var tunnels []string
	for _, vip := range vips {
		if vip.Is4() {
			v4 = append(v4, vip)
		}
		var local, tun, other []doctorHeld
		for _, h := range d.holders(vip) {
			switch {
			case h.link.Loopback || h.link.Kind == "dummy":
				local = append(local, h)
			case slices.Contains(doctorTunnelKinds, h.link.Kind):
				tun = append(tun, h)
			default:
				other = append(other, h)
			}
		}
		host := netip.PrefixFrom(vip, vip.BitLen())
		if len(local)+len(tun)+len(other) == 0 {
			d.problem("ip addr add "+host.String()+" dev lo", "VIP %s is not on this host: a DR real server needs it on lo (TUN: on tunl0) to accept the packets the director sends it", vip)
		}
		for i, h := range append(local, tun...) {
			mode := "DR"
			if i >= len(local) {
				mode = "TUN"
				tunnels = append(tunnels, h.link.Name)
			}
			if h.prefix.Bits() != vip.BitLen() {
				d.problem(fmt.Sprintf("ip addr del %s dev %s && ip addr add %s dev %s", h.prefix, h.link.Name, host, h.link.Name),
					"VIP %s is on %s as %s: that makes all of %s local to this host, which can then no longer reach the director, its gateway or clients in it",
					vip, h.link.Name, h.prefix, h.prefix.Masked())
				continue
			}
			if !h.link.Up {
				d.problem("ip link set dev "+h.link.Name+" up", "VIP %s is on %s, which is down: packets for it are not accepted", vip, h.link.Name)
				continue
			}
			d.ok("VIP %s is on %s as %s (%s)", vip, h.link.Name, h.prefix, mode)
		}
		for _, h := range other {
			fix := "ip addr del " + h.prefix.String() + " dev " + h.link.Name
			if len(local)+len(tun) == 0 {
				fix += " && ip addr add " + host.String() + " dev lo"
			}
			d.problem(fix, "VIP %s is on %s, a real interface: this real server answers ARP for the VIP there and takes its traffic from the director; it belongs on lo (DR) or the tunnel (TUN) as %s",
				vip, h.link.Name, host)
		}
	}
	if len(v4) > 0 {
		d.checkARP(v4)
	} else {
		d.ok("IPv6 VIPs only: neighbour discovery answers only for addresses of the receiving interface, no ARP settings needed")
	}
	slices.Sort(tunnels)
	for _, t := range slices.Compact(tunnels) {
		c, err := d.confMax("rp_filter", t)
		if err != nil {
			d.warn("", "%v", err)
			continue
		}
		if c.effective == 1 {
			d.problem(doctorRPFilterFix(c), "%s: packets decapsulated on %s come from clients the route back does not reach via %s, so the kernel drops them (want 0 or 2)", c.explain("strict"), t, t)
			continue
		}
		d.ok("%s: decapsulated packets from clients are accepted", c.explain(""))
	}
}

// checkARP: ARP requests for a VIP held on lo arrive on the real
// interfaces; arp_ignore (the larger of all and the receiving interface)
// must be 1 or 2 so that they answer only for their own addresses, and
// arp_announce 2 so that their own requests never carry the VIP as
// source. lo's values do not matter: ARP never arrives on lo.
func (d *doctor) checkARP(vips []netip.Addr) {
	links, _ := d.allLinks()
	var ifaces []string
	for _, l := range links {
		if l.Loopback || l.NoARP || slices.Contains(doctorTunnelKinds, l.Kind) {
			continue
		}
		ifaces = append(ifaces, l.Name)
	}
	if len(ifaces) == 0 {
		d.ok("no interface here answers ARP")
		return
	}
	which := doctorAddrs(vips)

	var bad []doctorConf
	var good []string
	fixAll := false
	var fix []string
	for _, name := range ifaces {
		c, err := d.confMax("arp_ignore", name)
		if err != nil {
			d.warn("", "%v", err)
			continue
		}
		if c.effective == 1 || c.effective == 2 {
			good = append(good, fmt.Sprintf("%s=%d", name, c.effective))
			continue
		}
		bad = append(bad, c)
		if c.all != 1 && c.all != 2 {
			fixAll = true
		}
		if c.dev > 2 {
			fix = append(fix, doctorConfKey("ipv4", name, "arp_ignore"), "1")
		}
	}
	if fixAll {
		fix = append([]string{doctorConfKey("ipv4", "all", "arp_ignore"), "1"}, fix...)
	}
	for _, c := range bad {
		why := fmt.Sprintf("answers ARP for every address of this host, the VIPs (%s) included, and takes their traffic from the director", which)
		if c.effective == 8 {
			why = "answers no ARP at all, not even for its own address"
		}
		d.problem(doctorSysctlFix(fix...), "%s, so %s %s (want 1: answer only for addresses on %s)",
			c.explain(""), c.iface, why, c.iface)
	}
	if len(bad) == 0 && len(good) > 0 {
		d.ok("arp_ignore is 1 or 2 on every interface (%s): each answers ARP only for its own addresses, not for %s", strings.Join(good, " "), which)
	}

	var annBad []doctorConf
	var annGood []string
	for _, name := range ifaces {
		c, err := d.confMax("arp_announce", name)
		if err != nil {
			d.warn("", "%v", err)
			continue
		}
		if c.effective != 2 {
			annBad = append(annBad, c)
		} else {
			annGood = append(annGood, name)
		}
	}
	for _, c := range annBad {
		d.problem(doctorSysctlFix(doctorConfKey("ipv4", "all", "arp_announce"), "2"),
			"%s, so ARP requests from %s may carry a VIP (%s) as their source and teach the neighbours this host's MAC for it (want 2: always the interface's own address)",
			c.explain(""), c.iface, which)
	}
	if len(annBad) == 0 && len(annGood) > 0 {
		d.ok("arp_announce is 2 on %s: this host never announces the VIPs", strings.Join(annGood, ", "))
	}
}

// --- nftables ---------------------------------------------------------

// The VRRP firewall check reads `nft -j list ruleset` and follows a VRRP
// packet (IP protocol 112, arriving on an interface) through every base
// chain that can drop it before it reaches a socket: filter chains on
// the prerouting, input and ingress hooks. Matches it can decide (the
// protocol, the family, the input interface) it decides; a rule with
// other conditions counts only if it names VRRP itself, since otherwise
// every `ct state established accept` and `ip saddr … drop` would be
// guessed at.

type nftRuleset struct {
	chains map[nftChainKey]*nftChain
	base   []*nftChain
}

type nftChainKey struct{ family, table, name string }

func (k nftChainKey) String() string { return k.family + " " + k.table + " " + k.name }

type nftChain struct {
	key    nftChainKey
	typ    string
	hook   string
	policy string
	devs   []string
	rules  []nftRule
}

type nftRule struct {
	handle int
	exprs  []map[string]json.RawMessage
}

func parseNftRuleset(data []byte) (*nftRuleset, error) {
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	rs := &nftRuleset{chains: map[nftChainKey]*nftChain{}}
	var rules []struct {
		Family, Table, Chain string
		Handle               int
		Expr                 []map[string]json.RawMessage
	}
	for _, obj := range doc.Nftables {
		if raw, ok := obj["chain"]; ok {
			var c struct {
				Family, Table, Name, Type, Hook, Policy string
				Dev                                     json.RawMessage
			}
			if err := json.Unmarshal(raw, &c); err != nil {
				return nil, fmt.Errorf("chain: %w", err)
			}
			ch := &nftChain{key: nftChainKey{c.Family, c.Table, c.Name}, typ: c.Type, hook: c.Hook, policy: c.Policy}
			if len(c.Dev) > 0 {
				var one string
				if json.Unmarshal(c.Dev, &one) == nil {
					ch.devs = []string{one}
				} else {
					json.Unmarshal(c.Dev, &ch.devs)
				}
			}
			rs.chains[ch.key] = ch
			if ch.hook != "" {
				rs.base = append(rs.base, ch)
			}
		}
		if raw, ok := obj["rule"]; ok {
			var r struct {
				Family, Table, Chain string
				Handle               int
				Expr                 []map[string]json.RawMessage
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, fmt.Errorf("rule: %w", err)
			}
			rules = append(rules, r)
		}
	}
	for _, r := range rules {
		if c := rs.chains[nftChainKey{r.Family, r.Table, r.Chain}]; c != nil {
			c.rules = append(c.rules, nftRule{handle: r.Handle, exprs: r.Expr})
		}
	}
	return rs, nil
}

// nftPacket is the packet the evaluation follows.
type nftPacket struct {
	iface string
	v6    bool
}

// nftTri is a condition's truth for the packet: some conditions (a source
// address, a connection state) cannot be told.
type nftTri uint8

const (
	nftNo nftTri = iota
	nftMaybe
	nftYes
)

func (t nftTri) and(u nftTri) nftTri { return min(t, u) }

func (t nftTri) not() nftTri { return nftYes - t }

// nftVerdict is the outcome of a chain for the packet.
type nftVerdict struct {
	kind        string // "accept", "drop" or "" (fell through or returned)
	by          string // which rule or policy decided
	conditional bool   // decided by a rule with conditions doctor cannot tell
}

// nftDrop is a base chain that drops the packet, and its fix.
type nftDrop struct {
	by, fix string
}

// nftVerdicts sums up the base chains for one packet.
type nftVerdicts struct {
	chains   int
	drops    []nftDrop // surely dropped
	maybe    []nftDrop // dropped by a rule naming VRRP, with other conditions
	accepted []string
}

func (rs *nftRuleset) vrrpVerdict(iface string, v6 bool) nftVerdicts {
	p := nftPacket{iface, v6}
	var out nftVerdicts
	for _, c := range rs.base {
		if !c.sees(p) {
			continue
		}
		out.chains++
		v := rs.eval(c, p, 0)
		if v.kind == "" {
			if c.policy != "drop" {
				continue
			}
			v = nftVerdict{kind: "drop", by: "the drop policy of chain " + c.key.String()}
		}
		switch {
		case v.kind == "accept":
			if v.conditional {
				out.accepted = append(out.accepted, "by "+v.by+", whose other conditions must let every peer's adverts through")
			} else {
				out.accepted = append(out.accepted, "by "+v.by)
			}
		case v.conditional:
			out.maybe = append(out.maybe, nftDrop{by: v.by})
		default:
			out.drops = append(out.drops, nftDrop{by: v.by, fix: c.acceptFix(p)})
		}
	}
	return out
}

// sees reports whether the packet passes through the base chain.
func (c *nftChain) sees(p nftPacket) bool {
	if c.typ != "filter" {
		return false
	}
	switch c.key.family {
	case "ip":
		if p.v6 {
			return false
		}
	case "ip6":
		if !p.v6 {
			return false
		}
	case "inet", "netdev":
	default:
		return false
	}
	switch c.hook {
	case "prerouting", "input":
		return c.key.family != "netdev"
	case "ingress":
		return len(c.devs) == 0 || slices.Contains(c.devs, p.iface)
	}
	return false
}

// acceptFix is the rule that lets VRRP in, first in the chain.
func (c *nftChain) acceptFix(p nftPacket) string {
	match := "meta l4proto vrrp"
	switch c.key.family {
	case "ip":
		match = "ip protocol vrrp"
	case "ip6":
		match = "ip6 nexthdr vrrp"
	}
	if c.key.family != "netdev" {
		match = "iifname " + p.iface + " " + match
	}
	return fmt.Sprintf("nft insert rule %s %s %s %s accept", c.key.family, c.key.table, c.key.name, match)
}

func (rs *nftRuleset) eval(c *nftChain, p nftPacket, depth int) nftVerdict {
	if depth > 16 {
		return nftVerdict{}
	}
	for _, r := range c.rules {
		cond, named := nftYes, false
		var verdict string
		var target string
		for _, e := range r.exprs {
			for k, raw := range e {
				switch k {
				case "match":
					t, proto := evalNftMatch(raw, p)
					cond = cond.and(t)
					named = named || (proto && t == nftYes)
				case "accept", "drop", "return", "continue":
					verdict = k
				case "reject":
					verdict = "drop"
				case "jump", "goto":
					var j struct{ Target string }
					json.Unmarshal(raw, &j)
					verdict, target = k, j.Target
				case "vmap":
					v, t, ok := evalNftVmap(raw, p)
					if !ok {
						cond = nftNo // a map doctor cannot read: assume it does not apply
					} else if v == "" {
						cond = nftNo // no entry for the packet
					} else {
						verdict, target = v, t
						named = true
					}
				case "limit", "queue", "xt":
					cond = cond.and(nftMaybe)
				}
			}
		}
		if cond == nftNo || (cond == nftMaybe && !named) || verdict == "" || verdict == "continue" {
			continue
		}
		by := fmt.Sprintf("rule handle %d of chain %s", r.handle, c.key)
		conditional := cond == nftMaybe
		switch verdict {
		case "accept", "drop":
			return nftVerdict{kind: verdict, by: by, conditional: conditional}
		case "return":
			return nftVerdict{}
		case "jump", "goto":
			sub := rs.chains[nftChainKey{c.key.family, c.key.table, target}]
			if sub == nil {
				continue
			}
			v := rs.eval(sub, p, depth+1)
			v.conditional = v.conditional || conditional
			if v.kind != "" || verdict == "goto" {
				return v
			}
		}
	}
	return nftVerdict{}
}

// evalNftMatch decides a match for the packet; proto says whether it
// tested the IP protocol (so that a yes names VRRP).
func evalNftMatch(raw json.RawMessage, p nftPacket) (t nftTri, proto bool) {
	var m struct {
		Op          string
		Left, Right json.RawMessage
	}
	if json.Unmarshal(raw, &m) != nil {
		return nftMaybe, false
	}
	neg := false
	switch m.Op {
	case "==", "in", "":
	case "!=":
		neg = true
	default:
		return nftMaybe, false
	}
	t, proto, absent := nftField(m.Left, p, func(test func(json.RawMessage) nftTri) nftTri { return test(m.Right) })
	if absent {
		// "ip protocol != tcp" is still no for an IPv6 packet: nft
		// tests the family before the field.
		return nftNo, false
	}
	if neg {
		return t.not(), false
	}
	return t, proto
}

// nftField resolves the left side of a match or the key of a map for
// the packet and applies test to the right side. A field the packet
// lacks (ip protocol of an IPv6 packet, tcp dport of VRRP) is no.
func nftField(left json.RawMessage, p nftPacket, apply func(func(json.RawMessage) nftTri) nftTri) (t nftTri, proto, absent bool) {
	var l struct {
		Meta    *struct{ Key string }
		Payload *struct{ Protocol, Field string }
	}
	if json.Unmarshal(left, &l) != nil {
		return nftMaybe, false, false
	}
	switch {
	case l.Meta != nil:
		switch l.Meta.Key {
		case "l4proto":
			return apply(nftIsVRRP), true, false
		case "nfproto":
			return apply(nftNameTest(map[bool]string{false: "ipv4", true: "ipv6"}[p.v6])), false, false
		case "protocol":
			return apply(nftNameTest(map[bool]string{false: "ip", true: "ip6"}[p.v6])), false, false
		case "iifname", "iif":
			return apply(nftNameTest(p.iface)), false, false
		}
	case l.Payload != nil:
		switch pr := l.Payload.Protocol; {
		case pr == "ip" && p.v6, pr == "ip6" && !p.v6:
			return nftNo, false, true
		case pr == "ip" && l.Payload.Field == "protocol", pr == "ip6" && l.Payload.Field == "nexthdr":
			return apply(nftIsVRRP), true, false
		case slices.Contains([]string{"tcp", "udp", "udplite", "sctp", "dccp", "icmp", "icmpv6", "igmp", "esp", "ah", "comp"}, pr):
			return nftNo, false, true
		}
	}
	return nftMaybe, false, false
}

// nftValues calls f on each value of a right side (a value, a set, a
// list); a named set (@name) is unknown.
func nftValues(right json.RawMessage, f func(json.RawMessage) nftTri) nftTri {
	var set struct{ Set []json.RawMessage }
	if json.Unmarshal(right, &set) == nil && set.Set != nil {
		return nftAny(set.Set, f)
	}
	var list []json.RawMessage
	if json.Unmarshal(right, &list) == nil {
		return nftAny(list, f)
	}
	var s string
	if json.Unmarshal(right, &s) == nil && strings.HasPrefix(s, "@") {
		return nftMaybe
	}
	return f(right)
}

func nftAny(vs []json.RawMessage, f func(json.RawMessage) nftTri) nftTri {
	out := nftNo
	for _, v := range vs {
		out = max(out, nftValues(v, f))
	}
	return out
}

// nftProtoNumbers are the protocol names nft prints (from /etc/protocols).
var nftProtoNumbers = map[string]int{
	"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
	"icmpv6": 58, "ipv6-icmp": 58, "vrrp": 112, "carp": 112, "sctp": 132, "udplite": 136,
}

func nftProto(v json.RawMessage) (int, bool) {
	var n int
	if json.Unmarshal(v, &n) == nil {
		return n, true
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if n, err := strconv.Atoi(s); err == nil {
			return n, true
		}
		n, ok := nftProtoNumbers[s]
		return n, ok
	}
	return 0, false
}

func nftIsVRRP(right json.RawMessage) nftTri {
	return nftValues(right, func(v json.RawMessage) nftTri {
		var r struct{ Range []json.RawMessage }
		if json.Unmarshal(v, &r) == nil && len(r.Range) == 2 {
			lo, ok1 := nftProto(r.Range[0])
			hi, ok2 := nftProto(r.Range[1])
			if !ok1 || !ok2 {
				return nftMaybe
			}
			if lo <= vrrp.IPProto && vrrp.IPProto <= hi {
				return nftYes
			}
			return nftNo
		}
		var s string
		if json.Unmarshal(v, &s) == nil && strings.HasPrefix(s, "@") {
			return nftMaybe
		}
		n, ok := nftProto(v)
		switch {
		case !ok:
			return nftNo // a name that is not vrrp's
		case n == vrrp.IPProto:
			return nftYes
		}
		return nftNo
	})
}

// nftNameTest matches a name, with nft's trailing * wildcard.
func nftNameTest(name string) func(json.RawMessage) nftTri {
	return func(right json.RawMessage) nftTri {
		return nftValues(right, func(v json.RawMessage) nftTri {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return nftMaybe // an interface index
			}
			if s == name || (strings.HasSuffix(s, "*") && strings.HasPrefix(name, strings.TrimSuffix(s, "*"))) {
				return nftYes
			}
			return nftNo
		})
	}
}

// evalNftVmap resolves a verdict map for the packet: the verdict of the
// entry it hits ("" for none), or ok false when it cannot tell.
func evalNftVmap(raw json.RawMessage, p nftPacket) (verdict, target string, ok bool) {
	var m struct {
		Key  json.RawMessage
		Data struct{ Set [][2]json.RawMessage }
	}
	if json.Unmarshal(raw, &m) != nil || m.Data.Set == nil {
		return "", "", false
	}
	for _, entry := range m.Data.Set {
		hit, _, absent := nftField(m.Key, p, func(test func(json.RawMessage) nftTri) nftTri { return test(entry[0]) })
		if absent {
			return "", "", true
		}
		switch hit {
		case nftMaybe:
			return "", "", false
		case nftYes:
			var v map[string]json.RawMessage
			if json.Unmarshal(entry[1], &v) != nil {
				return "", "", false
			}
			for k, arg := range v {
				switch k {
				case "accept", "drop", "return", "continue":
					return k, "", true
				case "reject":
					return "drop", "", true
				case "jump", "goto":
					var j struct{ Target string }
					json.Unmarshal(arg, &j)
					return k, j.Target, true
				}
			}
			return "", "", false
		}
	}
	return "", "", true
}
