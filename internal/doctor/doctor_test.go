package doctor

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
)

// fakeHost is a host described by its facts.
type fakeHost struct {
	sysctl     map[string]string // dotted names
	ipvs       IPVSStatus
	links      []Link
	linksErr   error
	routes     map[netip.Addr]string
	defaults   []string
	daemon     map[string]string // instance → state
	daemonErr  error
	ruleset    string
	rulesetErr error
	legacy     [2]LegacyFilter // IPv4, IPv6
	legacyErr  error
	procs      map[string][]int
	heard      []Advert
	listenErr  error

	listened []ListenOn
	listenD  time.Duration
}

var _ Host = (*fakeHost)(nil)

func (f *fakeHost) Sysctl(key string) (string, error) {
	v, ok := f.sysctl[sysctlName(key)]
	if !ok {
		return "", &os.PathError{Op: "open", Path: "/proc/sys/" + key, Err: os.ErrNotExist}
	}
	return v, nil
}
func (f *fakeHost) IPVS() IPVSStatus                     { return f.ipvs }
func (f *fakeHost) Links() ([]Link, error)               { return f.links, f.linksErr }
func (f *fakeHost) DefaultRoutes(bool) ([]string, error) { return f.defaults, nil }
func (f *fakeHost) Ruleset() ([]byte, error)             { return []byte(f.ruleset), f.rulesetErr }
func (f *fakeHost) Processes(name string) ([]int, error) { return f.procs[name], nil }

func (f *fakeHost) LegacyFilter(v6 bool) (LegacyFilter, error) {
	if v6 {
		return f.legacy[1], f.legacyErr
	}
	return f.legacy[0], f.legacyErr
}

func (f *fakeHost) RouteTo(ip netip.Addr) (string, error) {
	if r, ok := f.routes[ip]; ok {
		return r, nil
	}
	return "eth0", nil
}

// States is the fake's DaemonStates: no lvsd answers unless daemon or
// daemonErr says otherwise.
func (f *fakeHost) States(string) (map[string]string, error) {
	if f.daemon == nil && f.daemonErr == nil {
		return nil, fmt.Errorf("cannot reach lvsd: %w", syscall.ENOENT)
	}
	return f.daemon, f.daemonErr
}

func (f *fakeHost) Listen(on []ListenOn, d time.Duration) ([]Advert, error) {
	f.listened, f.listenD = on, d
	return f.heard, f.listenErr
}

func (f *fakeHost) setLink(name string, mod func(*Link)) {
	for i := range f.links {
		if f.links[i].Name == name {
			mod(&f.links[i])
			return
		}
	}
	l := Link{Name: name, Kind: "device", Up: true, Carrier: true}
	mod(&l)
	f.links = append(f.links, l)
}

func docPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func docAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }

// goodDirector is a director host with nothing wrong for natConfig.
func docGoodDirector() *fakeHost {
	return &fakeHost{
		sysctl: map[string]string{
			"net.ipv4.ip_forward":             "1",
			"net.ipv6.conf.all.forwarding":    "1",
			"net.ipv4.conf.all.rp_filter":     "0",
			"net.ipv4.conf.eth0.rp_filter":    "0",
			"net.ipv4.conf.eth1.rp_filter":    "0",
			"net.ipv4.conf.default.rp_filter": "0",
		},
		ipvs: IPVSStatus{Loaded: true, Kernel: "6.1.0-18-amd64"},
		links: []Link{
			{Name: "lo", Kind: "device", Up: true, Carrier: true, Loopback: true, Addrs: []netip.Prefix{docPrefix("127.0.0.1/8"), docPrefix("::1/128")}},
			{Name: "eth0", Kind: "device", Up: true, Carrier: true, Addrs: []netip.Prefix{docPrefix("192.0.2.11/24"), docPrefix("fe80::1/64")}},
			{Name: "eth1", Kind: "device", Up: true, Carrier: true, Addrs: []netip.Prefix{docPrefix("198.51.100.11/24")}},
		},
		defaults: []string{"eth0"},
		ruleset:  `{"nftables":[{"metainfo":{"version":"1.0.6"}}]}`,
	}
}

// natConfig is one instance on eth0 and a NAT virtual server.
func docNATConfig() *conf.Config {
	return &conf.Config{
		File:   "/etc/lvsd/lvsd.hcl",
		Global: conf.Global{ControlSocket: "/run/lvsd/lvsd.sock"},
		Instances: []vrrp.Config{{
			Name: "VI_1", Interface: "eth0", VRID: 51, Priority: 150, Version: vrrp.V3,
			AdvertInterval: time.Second, VIPs: []netip.Prefix{docPrefix("192.0.2.100/24")},
		}},
		VirtualServers: []conf.VirtualServer{{
			Name:    "web",
			Service: ipvs.Service{Address: docAddr("192.0.2.100"), Port: 80, Protocol: ipvs.TCP, Scheduler: "wlc"},
			RealServers: []conf.RealServer{
				{Destination: ipvs.Destination{Address: docAddr("198.51.100.21"), Port: 8080, Weight: 1, Forwarding: ipvs.NAT}},
			},
		}},
	}
}

func docDRConfig() *conf.Config {
	cfg := docNATConfig()
	cfg.VirtualServers[0].RealServers[0].Destination.Forwarding = ipvs.Direct
	return cfg
}

// report runs the checks of one part and returns the findings.
func docReport(t *testing.T, host *fakeHost, fn func(d *doctor)) []Finding {
	t.Helper()
	d := &doctor{host: host, daemon: host.States}
	fn(d)
	for _, f := range d.findings {
		t.Log(f)
	}
	return d.findings
}

func docDirectorReport(t *testing.T, host *fakeHost, cfg *conf.Config) []Finding {
	return docReport(t, host, func(d *doctor) { d.director(cfg, 0) })
}

// has reports whether a finding of sev contains every part.
func docHas(fs []Finding, sev Severity, parts ...string) bool {
	for _, f := range fs {
		if f.Severity != sev {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(f.String(), p)
		}
		if all {
			return true
		}
	}
	return false
}

func docWant(t *testing.T, fs []Finding, sev Severity, parts ...string) {
	t.Helper()
	if !docHas(fs, sev, parts...) {
		t.Errorf("no %s finding with %q", sev, parts)
	}
}

func docWantNo(t *testing.T, fs []Finding, sev Severity) {
	t.Helper()
	for _, f := range fs {
		if f.Severity == sev {
			t.Errorf("unexpected: %s", f)
		}
	}
}

func TestDoctorGoodDirector(t *testing.T) {
	fs := docDirectorReport(t, docGoodDirector(), docNATConfig())
	docWantNo(t, fs, Problem)
	for _, f := range fs {
		if f.Severity == Warning && !strings.Contains(f.What, "--listen 0") {
			t.Errorf("unexpected: %s", f)
		}
	}
	docWant(t, fs, OK, "IPVS is loaded")
	docWant(t, fs, OK, "net.ipv4.ip_forward is 1", "web")
	docWant(t, fs, OK, "interface eth0 of VI_1 is up with carrier; adverts go from 192.0.2.11")
	docWant(t, fs, OK, "rp_filter on eth0 is 0 (off")
	docWant(t, fs, OK, "VIPs of VI_1 (192.0.2.100) are not on this host outside lvsd")
	docWant(t, fs, OK, "nftables has no input chains")
	docWant(t, fs, Warning, "duplicate VRIDs on the wire not checked", "fix: lvsd doctor -c /etc/lvsd/lvsd.hcl --listen 5s")
}

func TestDoctorIPVS(t *testing.T) {
	host := docGoodDirector()
	host.ipvs = IPVSStatus{Kernel: "6.18.44", Detail: "/proc/net/ip_vs is absent and there is no module to load (/lib/modules/6.18.44 does not exist)"}
	fs := docDirectorReport(t, host, docNATConfig())
	docWant(t, fs, Problem, "this kernel (6.18.44) has no IPVS: /proc/net/ip_vs is absent", "lvsd run refuses to start with 1 virtual server", "fix: boot a kernel built with CONFIG_IP_VS")

	host.ipvs = IPVSStatus{Loadable: true, Kernel: "6.1.0", Detail: "the ip_vs module is installed but not loaded"}
	fs = docDirectorReport(t, host, docNATConfig())
	docWant(t, fs, Problem, "IPVS is not loaded (the ip_vs module is installed but not loaded)", "fix: modprobe ip_vs")

	// A plain VRRP pair needs no IPVS.
	cfg := docNATConfig()
	cfg.VirtualServers = nil
	fs = docDirectorReport(t, host, cfg)
	docWant(t, fs, OK, "IPVS not needed")
	docWantNo(t, fs, Problem)

	// The sync daemon is IPVS too.
	cfg.ConnectionSync = &conf.ConnectionSync{}
	cfg.ConnectionSync.Daemon.Interface = "eth0"
	fs = docDirectorReport(t, host, cfg)
	docWant(t, fs, Problem, "IPVS is not loaded", "connection_sync")
}

func TestDoctorIPForward(t *testing.T) {
	host := docGoodDirector()
	host.sysctl["net.ipv4.ip_forward"] = "0"
	fs := docDirectorReport(t, host, docNATConfig())
	docWant(t, fs, Problem, "net.ipv4.ip_forward is 0 but web uses NAT", "fix: sysctl -w net.ipv4.ip_forward=1")

	fs = docDirectorReport(t, host, docDRConfig())
	docWant(t, fs, OK, "IP forwarding not needed: no real server uses NAT")
	docWantNo(t, fs, Problem)

	// A NAT sorry server needs forwarding too.
	cfg := docDRConfig()
	cfg.VirtualServers[0].SorryServer = &ipvs.Destination{Address: docAddr("198.51.100.99"), Port: 80, Forwarding: ipvs.NAT}
	fs = docDirectorReport(t, host, cfg)
	docWant(t, fs, Problem, "net.ipv4.ip_forward is 0")

	// IPv6 NAT: the IPv6 switch.
	cfg = docNATConfig()
	cfg.VirtualServers[0].Service.Address = docAddr("2001:db8::100")
	cfg.VirtualServers[0].Service.IPv6 = true
	host.sysctl["net.ipv6.conf.all.forwarding"] = "0"
	fs = docDirectorReport(t, host, cfg)
	docWant(t, fs, Problem, "net.ipv6.conf.all.forwarding is 0", "fix: sysctl -w net.ipv6.conf.all.forwarding=1")
	if docHas(fs, Problem, "net.ipv4.ip_forward") {
		t.Error("IPv4 forwarding blamed for an IPv6 service")
	}
}

func TestDoctorInterfaces(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*fakeHost, *conf.Config)
		sev  Severity
		text []string
	}{
		{"missing", func(h *fakeHost, c *conf.Config) { c.Instances[0].Interface = "eth9" },
			Problem, []string{"interface eth9 of VI_1 does not exist", "fix: ip link show"}},
		{"down", func(h *fakeHost, c *conf.Config) {
			h.setLink("eth0", func(l *Link) { l.Up, l.Carrier = false, false })
		},
			Problem, []string{"interface eth0 of VI_1 is down", "fix: ip link set dev eth0 up"}},
		{"no carrier", func(h *fakeHost, c *conf.Config) { h.setLink("eth0", func(l *Link) { l.Carrier = false }) },
			Problem, []string{"eth0 of VI_1 is up but has no carrier"}},
		{"only the VIP", func(h *fakeHost, c *conf.Config) {
			h.setLink("eth0", func(l *Link) { l.Addrs = []netip.Prefix{docPrefix("192.0.2.100/24")} })
		}, Problem, []string{"no IPv4 address other than the VIPs", "fix: ip addr add ADDRESS/PREFIX dev eth0"}},
		{"source_ip", func(h *fakeHost, c *conf.Config) {
			h.setLink("eth0", func(l *Link) { l.Addrs = nil })
			c.Instances[0].SourceIP = docAddr("192.0.2.11")
		}, OK, []string{"adverts go from 192.0.2.11"}},
		{"IPv6 link-local", func(h *fakeHost, c *conf.Config) {
			c.Instances[0].VIPs = []netip.Prefix{docPrefix("2001:db8::100/64")}
		}, OK, []string{"adverts go from fe80::1"}},
		{"tracked down", func(h *fakeHost, c *conf.Config) {
			c.Instances[0].TrackInterfaces = []string{"eth1"}
			h.setLink("eth1", func(l *Link) { l.Up, l.Carrier = false, false })
		}, Warning, []string{"tracked interface eth1 of VI_1 is down", "fix: ip link set dev eth1 up"}},
		{"sync interface missing", func(h *fakeHost, c *conf.Config) {
			c.ConnectionSync = &conf.ConnectionSync{}
			c.ConnectionSync.Daemon.Interface = "eth7"
		}, Problem, []string{"interface eth7 of connection_sync does not exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, cfg := docGoodDirector(), docDRConfig()
			c.mod(host, cfg)
			fs := docReport(t, host, func(d *doctor) { d.checkInterfaces(cfg) })
			docWant(t, fs, c.sev, c.text...)
		})
	}
}

func TestDoctorRPFilter(t *testing.T) {
	cases := []struct {
		name     string
		all, dev string
		peers    []netip.Addr
		routes   map[netip.Addr]string
		defaults []string
		sev      Severity
		text     []string
	}{
		{"off", "0", "0", nil, nil, []string{"eth0"}, OK, []string{"rp_filter on eth0 is 0 (off: the larger of all=0 and eth0=0)"}},
		{"loose", "2", "1", nil, nil, []string{"eth1"}, OK, []string{"rp_filter on eth0 is 2 (loose"}},
		{"strict, all on-link", "1", "0", nil, nil, []string{"eth0"}, OK, []string{"is 1 (strict: the larger of all=1 and eth0=0): harmless here"}},
		{"strict per interface", "0", "1", []netip.Addr{docAddr("198.51.100.12")}, map[netip.Addr]string{docAddr("198.51.100.12"): "eth1"}, []string{"eth0"},
			Problem, []string{"route back to unicast peer 198.51.100.12 of VI_1 leaves by eth1", "both directors become MASTER", "fix: sysctl -w net.ipv4.conf.eth0.rp_filter=2"}},
		{"strict unicast peer elsewhere", "1", "0", []netip.Addr{docAddr("198.51.100.12")}, map[netip.Addr]string{docAddr("198.51.100.12"): "eth1"}, []string{"eth0"},
			Problem, []string{"rp_filter on eth0 is 1 (strict", "fix: sysctl -w net.ipv4.conf.all.rp_filter=2"}},
		{"strict unicast peer on-link", "1", "1", []netip.Addr{docAddr("192.0.2.12")}, nil, []string{"eth0"},
			OK, []string{"harmless here"}},
		{"strict, default elsewhere", "1", "0", nil, nil, []string{"eth1"},
			Warning, []string{"the default route leaves by eth1", "dropped before IPVS sees them", "fix: sysctl -w net.ipv4.conf.all.rp_filter=2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, cfg := docGoodDirector(), docDRConfig()
			host.sysctl["net.ipv4.conf.all.rp_filter"] = c.all
			host.sysctl["net.ipv4.conf.eth0.rp_filter"] = c.dev
			host.routes, host.defaults = c.routes, c.defaults
			cfg.Instances[0].UnicastPeers = c.peers
			fs := docReport(t, host, func(d *doctor) { d.checkRPFilter(cfg) })
			docWant(t, fs, c.sev, c.text...)
			if len(fs) != 1 {
				t.Errorf("%d findings, want 1", len(fs))
			}
		})
	}
}

func TestDoctorRPFilterSysctlNames(t *testing.T) {
	if got := sysctlName("net/ipv4/conf/eth0.5/rp_filter"); got != "net/ipv4/conf/eth0.5/rp_filter" {
		t.Errorf("VLAN interface: %q", got)
	}
	if got := sysctlName("net/ipv4/conf/eth0/rp_filter"); got != "net.ipv4.conf.eth0.rp_filter" {
		t.Errorf("%q", got)
	}
}

func TestDoctorVIPHeld(t *testing.T) {
	vipOn := func(h *fakeHost, link string, p string) {
		h.setLink(link, func(l *Link) { l.Addrs = append(l.Addrs, docPrefix(p)) })
	}
	status := func(state string) map[string]string {
		return map[string]string{"VI_1": state}
	}
	cases := []struct {
		name string
		mod  func(*fakeHost)
		sev  Severity
		text []string
	}{
		{"absent, lvsd stopped", func(h *fakeHost) {}, OK, []string{"not on this host outside lvsd"}},
		{"on eth0, lvsd stopped", func(h *fakeHost) { vipOn(h, "eth0", "192.0.2.100/24") },
			Problem, []string{"VIP 192.0.2.100 of VI_1 is on eth0 but lvsd is not running: something else holds it", "fix: ip addr del 192.0.2.100/24 dev eth0"}},
		{"on eth0, lvsd MASTER", func(h *fakeHost) { vipOn(h, "eth0", "192.0.2.100/24"); h.daemon = status("MASTER") },
			OK, []string{"held only by the running lvsd, which is MASTER"}},
		{"on eth0, lvsd BACKUP", func(h *fakeHost) { vipOn(h, "eth0", "192.0.2.100/24"); h.daemon = status("BACKUP") },
			Problem, []string{"lvsd has VI_1 in BACKUP, not MASTER"}},
		{"absent, lvsd BACKUP", func(h *fakeHost) { h.daemon = status("BACKUP") },
			OK, []string{"the running lvsd has it in BACKUP"}},
		{"on lo, lvsd MASTER", func(h *fakeHost) { vipOn(h, "lo", "192.0.2.100/32"); h.daemon = status("MASTER") },
			Problem, []string{"is on lo but not on eth0 where lvsd puts it", "fix: ip addr del 192.0.2.100/32 dev lo"}},
		{"socket not ours", func(h *fakeHost) {
			vipOn(h, "eth0", "192.0.2.100/24")
			h.daemonErr = fmt.Errorf("cannot reach lvsd: %w", syscall.EACCES)
		}, Warning, []string{"cannot be asked"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, cfg := docGoodDirector(), docDRConfig()
			c.mod(host)
			fs := docReport(t, host, func(d *doctor) { d.checkVIPsHeld(cfg) })
			docWant(t, fs, c.sev, c.text...)
		})
	}
}

func TestDoctorKeepalived(t *testing.T) {
	host := docGoodDirector()
	host.procs = map[string][]int{"keepalived": {812, 813}}
	fs := docReport(t, host, func(d *doctor) { d.checkKeepalived(docDRConfig()) })
	docWant(t, fs, Warning, "keepalived runs in this network namespace (pid 812, 813)", "fix: systemctl disable --now keepalived")
}

// nft builds `nft -j list ruleset` output from chains and rules, as
// nft 1.0.6 prints them.
func nftDoc(objs ...string) string {
	return `{"nftables":[` + strings.Join(append([]string{`{"metainfo":{"version":"1.0.6","json_schema_version":1}}`}, objs...), ",") + `]}`
}

func nftChainJSON(family, table, name, hook, policy string) string {
	if hook == "" {
		return fmt.Sprintf(`{"chain":{"family":%q,"table":%q,"name":%q,"handle":1}}`, family, table, name)
	}
	return fmt.Sprintf(`{"chain":{"family":%q,"table":%q,"name":%q,"handle":1,"type":"filter","hook":%q,"prio":0,"policy":%q}}`, family, table, name, hook, policy)
}

func nftRuleJSON(family, table, chain string, handle int, exprs ...string) string {
	return fmt.Sprintf(`{"rule":{"family":%q,"table":%q,"chain":%q,"handle":%d,"expr":[%s]}}`, family, table, chain, handle, strings.Join(exprs, ","))
}

const (
	nftMatchIPProtoVRRP  = `{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"protocol"}},"right":"vrrp"}}`
	nftMatchIPProto112   = `{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"protocol"}},"right":112}}`
	nftMatchIPProtoNot   = `{"match":{"op":"!=","left":{"payload":{"protocol":"ip","field":"protocol"}},"right":"vrrp"}}`
	nftMatchL4Set        = `{"match":{"op":"==","left":{"meta":{"key":"l4proto"}},"right":{"set":["tcp","vrrp"]}}}`
	nftMatchL4TCP        = `{"match":{"op":"==","left":{"meta":{"key":"l4proto"}},"right":"tcp"}}`
	nftMatchTCPDport22   = `{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":22}}`
	nftMatchCtEstab      = `{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}}`
	nftMatchIifLo        = `{"match":{"op":"==","left":{"meta":{"key":"iif"}},"right":"lo"}}`
	nftMatchIifnameEth0  = `{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"eth0"}}`
	nftMatchIifnameEthX  = `{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"eth*"}}`
	nftMatchIifnameEth1  = `{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"eth1"}}`
	nftMatchSaddrPeer    = `{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"192.0.2.12"}}`
	nftMatchIP6NexthdrVR = `{"match":{"op":"==","left":{"payload":{"protocol":"ip6","field":"nexthdr"}},"right":"vrrp"}}`
	nftAcceptJSON        = `{"accept":null}`
	nftDropJSON          = `{"drop":null}`
	nftRejectJSON        = `{"reject":{"type":"icmpx","expr":"port-unreachable"}}`
	nftCounterJSON       = `{"counter":{"packets":0,"bytes":0}}`
)

func TestDoctorFirewall(t *testing.T) {
	in := func(handle int, exprs ...string) string {
		return nftRuleJSON("inet", "filter", "input", handle, exprs...)
	}
	base := func(policy string) string { return nftChainJSON("inet", "filter", "input", "input", policy) }
	cases := []struct {
		name    string
		ruleset string
		v6      bool
		sev     Severity
		text    []string
	}{
		{"empty", nftDoc(), false, OK, []string{"nftables has no input chains"}},
		{"accept policy", nftDoc(base("accept"), in(2, nftMatchCtEstab, nftAcceptJSON)), false, OK, []string{"does not drop VRRP (IPv4) arriving on eth0 (1 input chain inspected)"}},
		{"ip protocol vrrp drop", nftDoc(base("accept"), in(5, nftMatchIPProtoVRRP, nftDropJSON)), false,
			Problem, []string{"nftables drops VRRP (IPv4, IP protocol 112) arriving on eth0: rule handle 5 of chain inet filter input", "fix: nft insert rule inet filter input iifname eth0 meta l4proto vrrp accept"}},
		{"by number", nftDoc(base("accept"), in(5, nftMatchIPProto112, nftCounterJSON, nftDropJSON)), false, Problem, []string{"rule handle 5"}},
		{"reject in a set", nftDoc(base("accept"), in(7, nftMatchL4Set, nftRejectJSON)), false, Problem, []string{"rule handle 7"}},
		{"drop policy", nftDoc(base("drop"), in(2, nftMatchCtEstab, nftAcceptJSON), in(3, nftMatchIifLo, nftAcceptJSON), in(4, nftMatchTCPDport22, nftAcceptJSON)), false,
			Problem, []string{"the drop policy of chain inet filter input"}},
		{"drop policy, VRRP accepted", nftDoc(base("drop"), in(2, nftMatchCtEstab, nftAcceptJSON), in(3, nftMatchIPProtoVRRP, nftAcceptJSON)), false,
			OK, []string{"accepts VRRP (IPv4) arriving on eth0 by rule handle 3 of chain inet filter input"}},
		{"drop policy, accepted from the peer", nftDoc(base("drop"), in(3, nftMatchSaddrPeer, nftMatchIPProtoVRRP, nftAcceptJSON)), false,
			OK, []string{"by rule handle 3 of chain inet filter input, whose other conditions must let every peer's adverts through"}},
		{"drop policy, eth0 trusted", nftDoc(base("drop"), in(3, nftMatchIifnameEth0, nftAcceptJSON)), false, OK, []string{"by rule handle 3"}},
		{"drop policy, eth* trusted", nftDoc(base("drop"), in(3, nftMatchIifnameEthX, nftAcceptJSON)), false, OK, []string{"by rule handle 3"}},
		{"drop policy, eth1 trusted", nftDoc(base("drop"), in(3, nftMatchIifnameEth1, nftAcceptJSON)), false, Problem, []string{"the drop policy"}},
		{"drop all but vrrp", nftDoc(base("accept"), in(9, nftMatchIPProtoNot, nftDropJSON)), false, OK, []string{"does not drop"}},
		{"tcp only rules", nftDoc(base("accept"), in(9, nftMatchL4TCP, nftDropJSON), in(10, nftMatchTCPDport22, nftDropJSON)), false, OK, []string{"does not drop"}},
		{"conditional drop naming VRRP", nftDoc(base("accept"), in(4, nftMatchSaddrPeer, nftMatchIPProtoVRRP, nftDropJSON)), false,
			Warning, []string{"may drop VRRP (IPv4) arriving on eth0: rule handle 4"}},
		{"drop in a jumped-to chain", nftDoc(base("accept"), nftChainJSON("inet", "filter", "sub", "", ""),
			in(2, `{"jump":{"target":"sub"}}`), nftRuleJSON("inet", "filter", "sub", 8, nftDropJSON)), false,
			Problem, []string{"rule handle 8 of chain inet filter sub", "fix: nft insert rule inet filter input iifname eth0"}},
		{"vmap accept", nftDoc(base("drop"), in(2, `{"vmap":{"key":{"meta":{"key":"l4proto"}},"data":{"set":[["tcp",{"jump":{"target":"tcp"}}],["vrrp",{"accept":null}]]}}}`)), false,
			OK, []string{"accepts VRRP"}},
		{"ip table ignores IPv6", nftDoc(nftChainJSON("ip", "f", "in", "input", "drop")), true,
			OK, []string{"has no input chains: VRRP (IPv6)"}},
		{"ip table, IPv4", nftDoc(nftChainJSON("ip", "f", "in", "input", "drop")), false,
			Problem, []string{"fix: nft insert rule ip f in iifname eth0 ip protocol vrrp accept"}},
		{"ip6 nexthdr vrrp drop", nftDoc(nftChainJSON("ip6", "f", "in", "input", "accept"), nftRuleJSON("ip6", "f", "in", 3, nftMatchIP6NexthdrVR, nftDropJSON)), true,
			Problem, []string{"drops VRRP (IPv6", "fix: nft insert rule ip6 f in iifname eth0 ip6 nexthdr vrrp accept"}},
		{"ip protocol rule skips IPv6", nftDoc(base("accept"), in(5, nftMatchIPProtoVRRP, nftDropJSON), in(6, nftMatchIPProtoNot, nftDropJSON)), true, OK, []string{"does not drop VRRP (IPv6)"}},
		{"netdev ingress of another device", nftDoc(`{"chain":{"family":"netdev","table":"n","name":"ing","type":"filter","hook":"ingress","dev":"eth1","policy":"drop"}}`), false,
			OK, []string{"has no input chains"}},
		{"netdev ingress of eth0", nftDoc(`{"chain":{"family":"netdev","table":"n","name":"ing","type":"filter","hook":"ingress","dev":"eth0","policy":"drop"}}`), false,
			Problem, []string{"fix: nft insert rule netdev n ing meta l4proto vrrp accept"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, cfg := docGoodDirector(), docDRConfig()
			host.ruleset = c.ruleset
			if c.v6 {
				cfg.Instances[0].VIPs = []netip.Prefix{docPrefix("2001:db8::100/64")}
			}
			fs := docReport(t, host, func(d *doctor) { d.checkFirewall(cfg) })
			docWant(t, fs, c.sev, c.text...)
			if len(fs) != 1 {
				t.Errorf("%d findings, want 1", len(fs))
			}
		})
	}
}

func TestDoctorLegacyFirewall(t *testing.T) {
	save := func(policy string, rules ...string) string {
		s := "# Generated by iptables-save v1.8.9\n*filter\n:INPUT " + policy + " [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		for _, r := range rules {
			s += r + "\n"
		}
		return s + "COMMIT\n"
	}
	cases := []struct {
		name string
		save string
		v6   bool
		sev  Severity
		text []string
	}{
		{"empty", save("ACCEPT"), false, OK, []string{"legacy iptables does not drop VRRP (IPv4) arriving on eth0 (INPUT policy ACCEPT, 0 rules)"}},
		{"drop policy", save("DROP", "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT", "-A INPUT -i lo -j ACCEPT", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"), false,
			Problem, []string{"legacy iptables drops VRRP (IPv4, IP protocol 112) arriving on eth0: the DROP policy of the INPUT chain", "fix: iptables-legacy -I INPUT -i eth0 -p 112 -j ACCEPT"}},
		{"drop policy, vrrp accepted", save("DROP", "-A INPUT -i eth0 -p vrrp -j ACCEPT"), false, OK, []string{"accepts VRRP (IPv4) arriving on eth0 by rule -A INPUT -i eth0 -p vrrp -j ACCEPT"}},
		{"drop policy, 112 accepted on eth+", save("DROP", "-A INPUT -i eth+ -p 112 -j ACCEPT"), false, OK, []string{"accepts VRRP"}},
		{"drop policy, accepted on eth1 only", save("DROP", "-A INPUT -i eth1 -p vrrp -j ACCEPT"), false, Problem, []string{"the DROP policy"}},
		{"keepalived's group rule", save("DROP", "-A INPUT -d 224.0.0.18/32 -p vrrp -j ACCEPT"), false, OK,
			[]string{"accepts VRRP (IPv4) arriving on eth0 by rule -A INPUT -d 224.0.0.18/32 -p vrrp -j ACCEPT, whose other conditions must let every peer's adverts through"}},
		{"invalid dropped, then vrrp accepted", save("DROP", "-A INPUT -m conntrack --ctstate INVALID -j DROP", "-A INPUT -p vrrp -j ACCEPT"), false, OK, []string{"by rule -A INPUT -p vrrp -j ACCEPT"}},
		{"commented accept", save("DROP", `-A INPUT -p vrrp -m comment --comment "keepalived - peers \"a\" -j DROP" -j ACCEPT`), false, OK, []string{`accepts VRRP (IPv4) arriving on eth0 by rule -A INPUT -p vrrp -m comment --comment "keepalived - peers \"a\" -j DROP" -j ACCEPT`}},
		{"reject all", save("ACCEPT", "-A INPUT -p tcp --dport 22 -j ACCEPT", "-A INPUT -j REJECT --reject-with icmp-port-unreachable"), false,
			Problem, []string{"rule -A INPUT -j REJECT --reject-with icmp-port-unreachable"}},
		{"drop all but vrrp", save("ACCEPT", "-A INPUT ! -p vrrp -j DROP"), false, OK, []string{"does not drop VRRP"}},
		{"tcp drops only", save("ACCEPT", "-A INPUT -p tcp -j DROP", "-A INPUT ! -i eth0 -j DROP"), false, OK, []string{"does not drop VRRP (IPv4) arriving on eth0 (INPUT policy ACCEPT, 2 rules)"}},
		{"conditional drop naming VRRP", save("ACCEPT", "-A INPUT -s 198.51.100.0/24 -p vrrp -j DROP"), false, Warning,
			[]string{"legacy iptables may drop VRRP (IPv4) arriving on eth0: rule -A INPUT -s 198.51.100.0/24 -p vrrp -j DROP"}},
		{"conditional drop of anything", save("ACCEPT", "-A INPUT -s 198.51.100.0/24 -j DROP"), false, OK, []string{"does not drop VRRP"}},
		{"user chain returns", save("ACCEPT", ":f2b-sshd - [0:0]", "-A INPUT -p tcp -j f2b-sshd", "-A INPUT -j f2b-all", ":f2b-all - [0:0]", "-A f2b-all -s 203.0.113.9/32 -j REJECT", "-A f2b-all -j RETURN", "-A f2b-all -j DROP"), false,
			OK, []string{"does not drop VRRP"}},
		{"user chain accepts", save("DROP", ":ufw-user-input - [0:0]", "-A INPUT -j ufw-user-input", "-A ufw-user-input -p vrrp -j ACCEPT"), false,
			OK, []string{"by rule -A ufw-user-input -p vrrp -j ACCEPT"}},
		{"user chain drops", save("ACCEPT", ":block - [0:0]", "-A INPUT -i eth0 -j block", "-A block -j DROP"), false,
			Problem, []string{"legacy iptables drops VRRP (IPv4, IP protocol 112) arriving on eth0: rule -A block -j DROP", "fix: iptables-legacy -I INPUT -i eth0 -p 112 -j ACCEPT"}},
		{"IPv6", save("DROP"), true, Problem, []string{"drops VRRP (IPv6", "fix: ip6tables-legacy -I INPUT -i eth0 -p 112 -j ACCEPT"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, cfg := docGoodDirector(), docDRConfig()
			host.legacy[0] = LegacyFilter{Loaded: true, Save: c.save}
			if c.v6 {
				host.legacy = [2]LegacyFilter{{}, {Loaded: true, Save: c.save}}
				cfg.Instances[0].VIPs = []netip.Prefix{docPrefix("2001:db8::100/64")}
			}
			fs := docReport(t, host, func(d *doctor) { d.checkLegacyFirewall(cfg) })
			docWant(t, fs, c.sev, c.text...)
			if len(fs) != 1 {
				t.Errorf("%d findings, want 1", len(fs))
			}
		})
	}
	// No legacy table: nothing to say. One that cannot be read: say so.
	host := docGoodDirector()
	if fs := docReport(t, host, func(d *doctor) { d.checkLegacyFirewall(docDRConfig()) }); len(fs) != 0 {
		t.Errorf("findings without legacy tables: %v", fs)
	}
	host.legacyErr = errors.New("the kernel has a legacy filter table but iptables-legacy-save is not installed (apt install iptables) to read it")
	fs := docReport(t, host, func(d *doctor) { d.checkLegacyFirewall(docDRConfig()) })
	docWant(t, fs, Warning, "legacy iptables check for VRRP (IPv4) skipped", "apt install iptables")
}

func TestDoctorFirewallSkipped(t *testing.T) {
	host := docGoodDirector()
	host.rulesetErr = errors.New("nft is not installed")
	fs := docReport(t, host, func(d *doctor) { d.checkFirewall(docDRConfig()) })
	docWant(t, fs, Warning, "firewall check for VRRP (IP protocol 112) skipped: nft is not installed")

	host.rulesetErr, host.ruleset = nil, "not json"
	fs = docReport(t, host, func(d *doctor) { d.checkFirewall(docDRConfig()) })
	docWant(t, fs, Warning, "firewall check for VRRP skipped")
}

func TestDoctorVRIDs(t *testing.T) {
	advert := func(src string, vrid uint8, v vrrp.Version, vips ...string) Advert {
		a := vrrp.Advert{Version: v, VRID: vrid, Priority: 100, Interval: time.Second}
		for _, s := range vips {
			a.Addrs = append(a.Addrs, docAddr(s))
		}
		return Advert{Interface: "eth0", Src: docAddr(src), TTL: 255, Advert: a}
	}
	cases := []struct {
		name  string
		heard []Advert
		sev   Severity
		text  []string
	}{
		{"silence", nil, OK, []string{"VRID 51 of VI_1 on eth0: listened 3s, heard no other router with it"}},
		{"the peer", []Advert{advert("192.0.2.12", 51, vrrp.V3, "192.0.2.100"), advert("192.0.2.12", 51, vrrp.V3, "192.0.2.100")},
			OK, []string{"heard it only from 192.0.2.12 with the same VIPs (the peer)"}},
		{"others", []Advert{advert("192.0.2.40", 7, vrrp.V2, "192.0.2.7"), advert("192.0.2.41", 9, vrrp.V3, "192.0.2.9")},
			OK, []string{"other VRIDs in use on eth0: 7 9"}},
		{"collision", []Advert{advert("192.0.2.12", 51, vrrp.V3, "192.0.2.100"), advert("192.0.2.99", 51, vrrp.V3, "192.0.2.200")},
			Problem, []string{"192.0.2.99 advertises VRID 51 on eth0 with 192.0.2.200, not the VIPs of VI_1 (192.0.2.100)", "two virtual routers share VRID 51"}},
		{"version mismatch", []Advert{advert("192.0.2.12", 51, vrrp.V2, "192.0.2.100")},
			Warning, []string{"peer 192.0.2.12 advertises VRID 51 on eth0 as VRRP v2, VI_1 speaks v3"}},
		{"own adverts", []Advert{advert("192.0.2.11", 51, vrrp.V3, "192.0.2.200")}, OK, []string{"heard no other router"}},
		{"not from the link", []Advert{func() Advert {
			a := advert("198.51.100.9", 51, vrrp.V3, "192.0.2.200")
			a.TTL = 254
			return a
		}()}, OK, []string{"heard no other router"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, cfg := docGoodDirector(), docDRConfig()
			host.heard = c.heard
			fs := docReport(t, host, func(d *doctor) { d.checkVRIDs(cfg, 3*time.Second) })
			docWant(t, fs, c.sev, c.text...)
			if c.sev == OK && len(fs) != 1 {
				t.Errorf("%d findings, want 1", len(fs))
			}
			if len(host.listened) != 1 || host.listened[0] != (ListenOn{"eth0", false}) || host.listenD != 3*time.Second {
				t.Errorf("listened on %v for %s", host.listened, host.listenD)
			}
		})
	}

	host, cfg := docGoodDirector(), docDRConfig()
	fs := docReport(t, host, func(d *doctor) { d.checkVRIDs(cfg, time.Second) })
	docWant(t, fs, Warning, "listened 1s, less than 3 advert intervals", "--listen 3s")

	host.listenErr = errors.New("raw socket on eth0: operation not permitted")
	fs = docReport(t, host, func(d *doctor) { d.checkVRIDs(cfg, 3*time.Second) })
	docWant(t, fs, Warning, "listening for VRRP adverts: raw socket on eth0: operation not permitted")
}

// goodRealServer is a DR real server of 192.0.2.100, rightly set up.
func docGoodRealServer() *fakeHost {
	return &fakeHost{
		sysctl: map[string]string{
			"net.ipv4.conf.all.arp_ignore":    "1",
			"net.ipv4.conf.eth0.arp_ignore":   "0",
			"net.ipv4.conf.all.arp_announce":  "2",
			"net.ipv4.conf.eth0.arp_announce": "0",
			"net.ipv4.conf.all.rp_filter":     "2",
			"net.ipv4.conf.tunl0.rp_filter":   "0",
		},
		links: []Link{
			{Name: "lo", Kind: "device", Up: true, Carrier: true, Loopback: true, Addrs: []netip.Prefix{docPrefix("127.0.0.1/8"), docPrefix("192.0.2.100/32")}},
			{Name: "eth0", Kind: "veth", Up: true, Carrier: true, Addrs: []netip.Prefix{docPrefix("192.0.2.21/24")}},
		},
	}
}

func docRSReport(t *testing.T, host *fakeHost, vips ...string) []Finding {
	var as []netip.Addr
	for _, v := range vips {
		as = append(as, docAddr(v))
	}
	return docReport(t, host, func(d *doctor) { d.realServer(as) })
}

func TestDoctorRealServerDR(t *testing.T) {
	fs := docRSReport(t, docGoodRealServer(), "192.0.2.100")
	docWantNo(t, fs, Problem)
	docWantNo(t, fs, Warning)
	docWant(t, fs, OK, "VIP 192.0.2.100 is on lo as 192.0.2.100/32 (DR)")
	docWant(t, fs, OK, "arp_ignore is 1 or 2 on every interface (eth0=1)")
	docWant(t, fs, OK, "arp_announce is 2 on eth0")
}

func TestDoctorRealServerARP(t *testing.T) {
	cases := []struct {
		name string
		set  map[string]string
		sev  Severity
		text []string
	}{
		{"arp_ignore 0", map[string]string{"net.ipv4.conf.all.arp_ignore": "0"},
			Problem, []string{"arp_ignore on eth0 is 0 (the larger of all=0 and eth0=0), so eth0 answers ARP for every address of this host, the VIPs (192.0.2.100) included", "fix: sysctl -w net.ipv4.conf.all.arp_ignore=1"}},
		{"arp_ignore only on lo", map[string]string{"net.ipv4.conf.all.arp_ignore": "0", "net.ipv4.conf.lo.arp_ignore": "1"},
			Problem, []string{"arp_ignore on eth0 is 0"}},
		{"arp_ignore on the interface", map[string]string{"net.ipv4.conf.all.arp_ignore": "0", "net.ipv4.conf.eth0.arp_ignore": "2"},
			OK, []string{"arp_ignore is 1 or 2 on every interface (eth0=2)"}},
		{"arp_ignore 3 on the interface", map[string]string{"net.ipv4.conf.eth0.arp_ignore": "3"},
			Problem, []string{"arp_ignore on eth0 is 3", "fix: sysctl -w net.ipv4.conf.eth0.arp_ignore=1"}},
		{"arp_announce 0", map[string]string{"net.ipv4.conf.all.arp_announce": "0"},
			Problem, []string{"arp_announce on eth0 is 0", "fix: sysctl -w net.ipv4.conf.all.arp_announce=2"}},
		{"arp_announce on the interface", map[string]string{"net.ipv4.conf.all.arp_announce": "1", "net.ipv4.conf.eth0.arp_announce": "2"},
			OK, []string{"arp_announce is 2 on eth0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host := docGoodRealServer()
			for k, v := range c.set {
				host.sysctl[k] = v
			}
			fs := docRSReport(t, host, "192.0.2.100")
			docWant(t, fs, c.sev, c.text...)
			if c.sev == OK {
				docWantNo(t, fs, Problem)
			}
		})
	}
}

func TestDoctorRealServerPlacement(t *testing.T) {
	move := func(h *fakeHost, from, to string, p netip.Prefix) {
		h.setLink(from, func(l *Link) {
			for i, a := range l.Addrs {
				if a.Addr() == p.Addr() {
					l.Addrs = append(l.Addrs[:i:i], l.Addrs[i+1:]...)
					break
				}
			}
		})
		if to != "" {
			h.setLink(to, func(l *Link) { l.Addrs = append(l.Addrs, p) })
		}
	}
	cases := []struct {
		name string
		mod  func(*fakeHost)
		sev  Severity
		text []string
	}{
		{"on eth0", func(h *fakeHost) { move(h, "lo", "eth0", docPrefix("192.0.2.100/24")) },
			Problem, []string{"VIP 192.0.2.100 is on eth0, a real interface: this real server answers ARP for the VIP there", "fix: ip addr del 192.0.2.100/24 dev eth0 && ip addr add 192.0.2.100/32 dev lo"}},
		{"on lo and eth0", func(h *fakeHost) {
			h.setLink("eth0", func(l *Link) { l.Addrs = append(l.Addrs, docPrefix("192.0.2.100/24")) })
		},
			Problem, []string{"is on eth0, a real interface", "fix: ip addr del 192.0.2.100/24 dev eth0"}},
		{"absent", func(h *fakeHost) { move(h, "lo", "", docPrefix("192.0.2.100/32")) },
			Problem, []string{"VIP 192.0.2.100 is not on this host", "fix: ip addr add 192.0.2.100/32 dev lo"}},
		{"lo /24", func(h *fakeHost) {
			move(h, "lo", "lo", docPrefix("192.0.2.100/32"))
			move(h, "lo", "lo", docPrefix("192.0.2.100/24"))
		},
			Problem, []string{"is on lo as 192.0.2.100/24: that makes all of 192.0.2.0/24 local", "fix: ip addr del 192.0.2.100/24 dev lo && ip addr add 192.0.2.100/32 dev lo"}},
		{"dummy", func(h *fakeHost) {
			move(h, "lo", "", docPrefix("192.0.2.100/32"))
			h.setLink("dummy0", func(l *Link) {
				l.Kind, l.NoARP, l.Addrs = "dummy", true, []netip.Prefix{docPrefix("192.0.2.100/32")}
			})
		}, OK, []string{"VIP 192.0.2.100 is on dummy0 as 192.0.2.100/32 (DR)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host := docGoodRealServer()
			c.mod(host)
			fs := docRSReport(t, host, "192.0.2.100")
			docWant(t, fs, c.sev, c.text...)
		})
	}
}

func TestDoctorRealServerTUN(t *testing.T) {
	tun := func(rpAll, rpTun string) *fakeHost {
		h := docGoodRealServer()
		h.links[0].Addrs = h.links[0].Addrs[:1]
		h.setLink("tunl0", func(l *Link) {
			l.Kind, l.NoARP, l.Addrs = "ipip", true, []netip.Prefix{docPrefix("192.0.2.100/32")}
		})
		h.sysctl["net.ipv4.conf.all.rp_filter"] = rpAll
		h.sysctl["net.ipv4.conf.tunl0.rp_filter"] = rpTun
		return h
	}
	fs := docRSReport(t, tun("2", "0"), "192.0.2.100")
	docWantNo(t, fs, Problem)
	docWant(t, fs, OK, "VIP 192.0.2.100 is on tunl0 as 192.0.2.100/32 (TUN)")
	docWant(t, fs, OK, "rp_filter on tunl0 is 2 (the larger of all=2 and tunl0=0): decapsulated packets")

	fs = docRSReport(t, tun("1", "0"), "192.0.2.100")
	docWant(t, fs, Problem, "rp_filter on tunl0 is 1 (strict: the larger of all=1 and tunl0=0)", "fix: sysctl -w net.ipv4.conf.all.rp_filter=2")

	fs = docRSReport(t, tun("0", "1"), "192.0.2.100")
	docWant(t, fs, Problem, "fix: sysctl -w net.ipv4.conf.tunl0.rp_filter=2")

	h := tun("0", "0")
	h.setLink("tunl0", func(l *Link) { l.Up = false })
	fs = docRSReport(t, h, "192.0.2.100")
	docWant(t, fs, Problem, "is on tunl0, which is down", "fix: ip link set dev tunl0 up")
}

func TestDoctorRealServerIPv6(t *testing.T) {
	h := docGoodRealServer()
	h.setLink("lo", func(l *Link) { l.Addrs = append(l.Addrs, docPrefix("2001:db8::100/128")) })
	fs := docRSReport(t, h, "2001:db8::100")
	docWantNo(t, fs, Problem)
	docWant(t, fs, OK, "VIP 2001:db8::100 is on lo as 2001:db8::100/128 (DR)")
	docWant(t, fs, OK, "IPv6 VIPs only")
}

// TestDoctorRun runs the checks as lvsd doctor does, with a fake host:
// the report's lines, its summary and its problems (exit 1).
func TestDoctorRun(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "lvsd.hcl")
	os.WriteFile(good, []byte(`
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
}
virtual_server "web" {
  address    = "192.0.2.100:80"
  forwarding = "nat"
  real_server "198.51.100.21:80" {}
}
`), 0o644)
	// Three errors: a VRID out of range, an unknown scheduler, a typo.
	invalid := filepath.Join(dir, "three-errors.hcl")
	os.WriteFile(invalid, []byte(`
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 300
  virtual_ips       = ["192.0.2.100/24"]
}
virtual_server "web" {
  address   = "192.0.2.100:80"
  scheduler = "fastest"
  real_server "192.0.2.21:80" {
    wieght = 2
  }
}
`), 0o644)
	line := regexp.MustCompile(`^(ok|PROBLEM|warning): [^—]+( — fix: .+)?$`)
	run := func(host *fakeHost, opts Options) (problems int, out string) {
		var b bytes.Buffer
		r := Run(&b, host, host.States, opts)
		t.Logf("lvsd doctor %+v: %d problems\n%s", opts, r.Count(Problem), b.String())
		return r.Count(Problem), b.String()
	}
	checkLines := func(out string) {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, l := range lines[:len(lines)-1] {
			if !line.MatchString(l) {
				t.Errorf("line %q is not ok|PROBLEM|warning: what — fix: command", l)
			}
		}
		if !strings.HasPrefix(lines[len(lines)-1], "lvsd doctor: ") {
			t.Errorf("no summary: %q", lines[len(lines)-1])
		}
	}

	problems, out := run(docGoodDirector(), Options{Config: good})
	if problems != 0 || !strings.Contains(out, "lvsd doctor: 0 problems, 1 warning\n") {
		t.Errorf("good director: %d problems", problems)
	}
	checkLines(out)

	bad := docGoodDirector()
	bad.sysctl["net.ipv4.ip_forward"] = "0"
	problems, out = run(bad, Options{Config: good})
	if problems == 0 || !strings.Contains(out, "PROBLEM: net.ipv4.ip_forward is 0") || !strings.Contains(out, "keep the settings in /etc/sysctl.d") {
		t.Errorf("NAT without forwarding: %d problems", problems)
	}
	checkLines(out)

	problems, out = run(docGoodRealServer(), Options{RealServer: []netip.Addr{docAddr("192.0.2.100")}})
	if problems != 0 || strings.Contains(out, "VI_1") {
		t.Errorf("real server: %d problems; director checks must not run without a configuration", problems)
	}
	checkLines(out)

	rs := docGoodRealServer()
	rs.setLink("lo", func(l *Link) { l.Addrs = append(l.Addrs, docPrefix("192.0.2.101/32")) })
	problems, out = run(rs, Options{RealServer: []netip.Addr{docAddr("192.0.2.100"), docAddr("192.0.2.101"), docAddr("192.0.2.102")}})
	if problems == 0 || !strings.Contains(out, "VIP 192.0.2.101 is on lo") || !strings.Contains(out, "PROBLEM: VIP 192.0.2.102 is not on this host") {
		t.Errorf("VIP list: %d problems", problems)
	}

	// Both roles at once.
	both := docGoodRealServer()
	for k, v := range docGoodDirector().sysctl {
		both.sysctl[k] = v
	}
	both.ipvs, both.ruleset = docGoodDirector().ipvs, docGoodDirector().ruleset
	problems, out = run(both, Options{Config: good, RealServer: []netip.Addr{docAddr("192.0.2.100")}})
	// A director that is also a real server of its own VIP holds it on lo
	// outside lvsd: both reports, and that problem.
	if problems == 0 || !strings.Contains(out, "PROBLEM: VIP 192.0.2.100 of VI_1 is on lo but not on eth0") || !strings.Contains(out, "ok: VIP 192.0.2.100 is on lo as 192.0.2.100/32 (DR)") {
		t.Errorf("a configuration and real server VIPs: %d problems, want both reports", problems)
	}

	problems, out = run(docGoodDirector(), Options{Config: invalid})
	if problems == 0 || !strings.Contains(out, "PROBLEM: "+invalid+" is invalid (3 problems): the director checks need a valid file — fix: lvsd check -c "+invalid) {
		t.Errorf("invalid file: %d problems", problems)
	}
}
