package conf

import (
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"

	lvsync "github.com/lvsd/lvsd/sync"
)

func mustParse(t *testing.T, file string) *Config {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := Parse(src, file, labHost)
	for _, d := range diags {
		t.Errorf("unexpected: %s", FormatDiagnostic(d))
	}
	if cfg == nil {
		t.Fatal("no config")
	}
	return cfg
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func TestFullConfig(t *testing.T) {
	cfg := mustParse(t, "testdata/good/full.hcl")

	equal(t, "global", cfg.Global, Global{
		RouterID: "dir-a", ControlSocket: "/run/lvsd/lvsd.sock", MetricsListen: "127.0.0.1:9560",
		ScriptUser: "nobody", LogLevel: slog.LevelDebug, LogFormat: LogJSON,
		IPVSTimeouts: ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second},
	})

	equal(t, "instances", len(cfg.Instances), 2)
	equal(t, "VI_1", cfg.Instances[0], vrrp.Config{
		Name: "VI_1", Interface: "eth0", VRID: 51, Priority: 150, AdvertInterval: time.Second,
		Version: vrrp.V3, Preempt: true,
		VIPs:            []netip.Prefix{netip.MustParsePrefix("192.0.2.100/24")},
		VIPsExcluded:    []netip.Prefix{netip.MustParsePrefix("2001:db8::100/64")},
		SourceIP:        netip.MustParseAddr("192.0.2.11"),
		UnicastPeers:    []netip.Addr{netip.MustParseAddr("192.0.2.12")},
		TrackInterfaces: []string{"eth1"}, TrackScripts: []string{"haproxy_alive"},
		GARP: vrrp.GARP{Delay: 5 * time.Second, Repeat: 5},
		Notify: vrrp.Notify{
			Master: []string{"/usr/local/bin/on-state", "master"},
			Backup: []string{"/usr/local/bin/on-state", "backup"},
			Fault:  []string{"/usr/local/bin/on-state", "fault"},
			Stop:   []string{"/usr/local/bin/on-state", "stop"},
		},
	})
	gw := cfg.Instances[1]
	equal(t, "VI_GW version", gw.Version, vrrp.V2)
	equal(t, "VI_GW auth", gw.AuthPass, "secret")
	equal(t, "VI_GW interval", gw.AdvertInterval, 2*time.Second)
	equal(t, "bare VIP is a host prefix", gw.VIPs, []netip.Prefix{netip.MustParsePrefix("198.51.100.1/32")})

	equal(t, "track scripts", cfg.TrackScripts, []vrrp.TrackScript{{
		Name: "haproxy_alive", Command: []string{"/usr/bin/pgrep", "haproxy"},
		Interval: 2 * time.Second, Timeout: time.Second, Weight: -20, Rise: 2, Fall: 2,
	}})
	equal(t, "sync groups", cfg.SyncGroups, []vrrp.SyncGroup{{Name: "edge", Instances: []string{"VI_1", "VI_GW"}}})
	equal(t, "connection sync", *cfg.ConnectionSync, ConnectionSync{Instance: "VI_1", Daemon: lvsync.Config{
		Interface: "eth0", SyncID: 51, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1, MaxLen: 1472,
	}})

	equal(t, "virtual servers", len(cfg.VirtualServers), 3)
	web := cfg.VirtualServers[0]
	equal(t, "web service", web.Service, ipvs.Service{
		Address: netip.MustParseAddr("192.0.2.100"), Port: 80, Protocol: ipvs.TCP,
		Scheduler: "wlc", Persistence: 300 * time.Second, PersistenceBits: 24,
	})
	equal(t, "web policy", []int{web.Quorum, web.Hysteresis}, []int{2, 1})
	equal(t, "web sorry", *web.SorryServer, ipvs.Destination{Address: netip.MustParseAddr("192.0.2.99"), Port: 80, Forwarding: ipvs.NAT})
	equal(t, "web real servers", len(web.RealServers), 2)
	rs1 := web.RealServers[0]
	equal(t, "rs1", rs1.Destination, ipvs.Destination{Address: netip.MustParseAddr("192.0.2.21"), Port: 80, Weight: 3, Forwarding: ipvs.NAT})
	equal(t, "rs1 check kind (own check overrides the service's)", rs1.Check.Kind, healthcheck.TCP)
	equal(t, "rs1 check port (the server's)", rs1.Check.Port, uint16(80))
	equal(t, "rs1 notify", [][]string{rs1.NotifyUp, rs1.NotifyDown},
		[][]string{{"/usr/local/bin/rs-event", "up"}, {"/usr/local/bin/rs-event", "down"}})
	rs2 := web.RealServers[1]
	equal(t, "rs2 weight default", rs2.Destination.Weight, 1)
	hc := *rs2.Check
	if hc.HTTP.BodyRegex == nil || hc.HTTP.BodyRegex.String() != "ok" {
		t.Errorf("body_regex = %v", hc.HTTP.BodyRegex)
	}
	hc.HTTP.BodyRegex = nil
	equal(t, "rs2 inherits the service check", hc, healthcheck.Config{
		Kind: healthcheck.HTTP, Interval: 2 * time.Second, Timeout: time.Second, Rise: 2, Fall: 3, Port: 8080,
		HTTP: healthcheck.HTTPCheck{Path: "/healthz", Method: "GET", Host: "www.example.org", Status: []int{200}, TLSVerify: true},
	})

	dns := cfg.VirtualServers[1]
	equal(t, "dns service", dns.Service, ipvs.Service{
		Address: netip.MustParseAddr("2001:db8::53"), Port: 53, Protocol: ipvs.UDP, IPv6: true,
		Scheduler: "mh", Flags: ipvs.FlagSched1 | ipvs.FlagSched2, PersistenceBits: 128,
	})
	equal(t, "dns check", dns.RealServers[0].Check.DNS, healthcheck.DNSCheck{Name: "example.org", Type: 28})
	equal(t, "DR real server without port takes the service's", dns.RealServers[1].Destination.Port, uint16(53))
	equal(t, "script check", dns.RealServers[1].Check.Script.Command, []string{"/usr/local/bin/check-dns", "2001:db8::22"})

	marked := cfg.VirtualServers[2]
	equal(t, "fwmark service", marked.Service, ipvs.Service{FWMark: 10, Protocol: ipvs.TCP, Scheduler: "wlc", PersistenceBits: 32})
	equal(t, "fwmark real server", marked.RealServers[0].Destination, ipvs.Destination{Address: netip.MustParseAddr("203.0.113.21"), Weight: 1, Forwarding: ipvs.Tunnel})
	equal(t, "fwmark check port", marked.RealServers[0].Check.Port, uint16(443))
}

func TestDefaults(t *testing.T) {
	src := `
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
}
virtual_server "web" {
  address = "192.0.2.100:80"
  check "http" {
    interval = "500ms"
  }
  real_server "192.0.2.21:80" {}
}
connection_sync {
  interface = "eth0"
}
`
	cfg, diags := Parse([]byte(src), "defaults.hcl", labHost)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	equal(t, "global", cfg.Global, Global{
		RouterID: "test-host", ControlSocket: DefaultControlSocket, ScriptUser: DefaultScriptUser,
		LogLevel: slog.LevelInfo, LogFormat: LogText,
	})
	in := cfg.Instances[0]
	equal(t, "instance defaults", []any{in.Priority, in.AdvertInterval, in.Version, in.Preempt, in.GARP},
		[]any{uint8(100), time.Second, vrrp.V3, true, vrrp.GARP{Delay: 5 * time.Second, Repeat: 5}})
	vs := cfg.VirtualServers[0]
	equal(t, "service defaults", []any{vs.Service.Scheduler, vs.Service.Protocol, vs.Forwarding, vs.Quorum, vs.SorryServer == nil},
		[]any{"wlc", ipvs.TCP, ipvs.NAT, 1, true})
	hc := vs.RealServers[0].Check
	equal(t, "check timeout defaults to half a short interval", hc.Timeout, 250*time.Millisecond)
	equal(t, "check rise/fall", []int{hc.Rise, hc.Fall}, []int{DefaultCheckRise, DefaultCheckFall})
	equal(t, "sync defaults (no instance: sync id 0)", cfg.ConnectionSync.Daemon, lvsync.Config{
		Interface: "eth0", Group: lvsync.DefaultGroup, Port: lvsync.DefaultPort, TTL: lvsync.DefaultTTL, MaxLen: lvsync.DefaultMaxLen,
	})
}

// TestHostWarnings: a missing interface or program is a warning marked as
// a host problem, and the file is still valid.
func TestHostWarnings(t *testing.T) {
	src := `
vrrp "VI_1" {
  interface         = "bond7"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
  notify {
    master = ["/opt/missing", "master"]
  }
}
`
	host := fakeHost{ifaces: []string{"eth0"}, programs: map[string]bool{}}
	cfg, diags := Parse([]byte(src), "host.hcl", host)
	if cfg == nil || diags.HasErrors() {
		t.Fatalf("want a valid config with warnings, got %v", diags)
	}
	var lines []string
	for _, d := range diags {
		if !IsHostProblem(d) {
			t.Errorf("not marked as a host problem: %s", FormatDiagnostic(d))
		}
		lines = append(lines, FormatDiagnostic(d))
	}
	equal(t, "warnings", lines, []string{
		`host.hcl:3,23: warning: No interface "bond7" on this host; lvsd run would refuse to start; check the name with ` + "`ip link`",
		`host.hcl:7,14: warning: Cannot run "/opt/missing" on this host; file does not exist`,
	})
}

// TestFormatDiagnostic pins the contract's line format.
func TestFormatDiagnostic(t *testing.T) {
	_, diags := Parse([]byte("vrrp \"A\" {\n  interface = \"eth0\"\n  virtual_router_id = 300\n  virtual_ips = [\"192.0.2.1\"]\n}\n"), "f.hcl", labHost)
	if len(diags) != 1 {
		t.Fatalf("diags = %v", diags)
	}
	got := FormatDiagnostic(diags[0])
	if want := "f.hcl:3,23: virtual_router_id out of range; 300 is not within 1..255"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if strings.Contains(got, "\n") {
		t.Error("a diagnostic must be one line")
	}
}
