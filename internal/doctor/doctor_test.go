package doctor

import (
	"bytes"
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

// docGoodDirector is a director host with nothing wrong for docNATConfig.
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

// docNATConfig is one instance on eth0 and a NAT virtual server.
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

// docReport runs the checks of one part and returns the findings.
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

// docHas reports whether a finding of sev contains every part.
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

// docGoodRealServer is a DR real server of 192.0.2.100, rightly set up.
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
