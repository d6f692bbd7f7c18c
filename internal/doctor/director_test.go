package doctor

import (
	"net/netip"
	"testing"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/ipvs"
)

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
