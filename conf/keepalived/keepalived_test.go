package keepalived

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	lvsdconf "github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"

	lvsync "github.com/lvsd/lvsd/sync"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden from the importer's output")

// everyHost has every interface and every program: the imported file is
// checked, not this machine.
type everyHost struct{}

func (everyHost) Hostname() string             { return "test-host" }
func (everyHost) HasInterface(string) bool     { return true }
func (everyHost) Executable(path string) error { return nil }

// The expectations below are written from the keepalived files, not from
// the importer: what keepalived would run, in lvsd's terms.

type kaInst struct {
	Name, Iface    string
	VRID, Priority uint8
	Version        vrrp.Version
	Advert         time.Duration
	VIPs, Excluded []string
	Preempt        bool
	PreemptDelay   time.Duration
	Auth, Source   string
	Peers          []string
	TrackIfs       []string
	TrackScripts   []string
	GARP           vrrp.GARP
	Notify         vrrp.Notify
}

type kaChk struct {
	Kind              healthcheck.Kind
	Port              uint16
	Interval, Timeout time.Duration
	Rise, Fall        int
	Path, Digest      string
	Host              string
	Status            []int
	TLS, Verify       bool
	Command           []string
	DNSName           string
	DNSType           healthcheck.DNSType
}

type kaRSWant struct {
	Addr       string
	Weight     int
	Fwd        ipvs.Forwarding
	Check      *kaChk
	NotifyUp   []string
	NotifyDown []string
}

type kaSvc struct {
	Addr        string // "" for fwmark
	FWMark      uint32
	IPv6        bool
	Proto       ipvs.Protocol
	Sched       string
	Flags       ipvs.Flags
	Fwd         ipvs.Forwarding
	Persistence time.Duration
	PersistBits int
	Quorum      int
	Hysteresis  int
	Sorry       string
	Inhibit     bool
	RS          []kaRSWant
}

type kaWant struct {
	routerID     string
	scriptUser   string
	timeouts     ipvs.Timeouts
	instances    []kaInst
	scripts      []vrrp.TrackScript
	groups       []vrrp.SyncGroup
	csync        *lvsdconf.ConnectionSync
	services     []kaSvc
	notesContain []string // texts some note must contain
}

var defGARP = vrrp.GARP{Delay: 5 * time.Second, Repeat: 5}

func tcpChk(port uint16, interval, timeout time.Duration, fall int) *kaChk {
	return &kaChk{Kind: healthcheck.TCP, Port: port, Interval: interval, Timeout: timeout, Rise: 1, Fall: fall}
}

func httpChk(port uint16, interval, timeout time.Duration, fall int, path string, status ...int) *kaChk {
	if len(status) == 0 {
		status = nil
	}
	return &kaChk{Kind: healthcheck.HTTP, Port: port, Interval: interval, Timeout: timeout, Rise: 1, Fall: fall,
		Path: path, Status: status, Verify: true}
}

func (c *kaChk) tls() *kaChk { c.TLS, c.Verify = true, false; return c }

var sec = time.Second

var kaCorpus = map[string]kaWant{
	"dr.conf": {
		routerID: "dir-a", scriptUser: lvsdconf.DefaultScriptUser,
		instances: []kaInst{{Name: "VI_WEB", Iface: "eth0", VRID: 51, Priority: 150, Version: vrrp.V2, Advert: sec,
			VIPs: []string{"192.0.2.100/24"}, Preempt: true, TrackIfs: []string{"eth0"}, GARP: defGARP}},
		services: []kaSvc{
			{Addr: "192.0.2.100:80", Proto: ipvs.TCP, Sched: "wlc", Fwd: ipvs.Direct, Persistence: 50 * sec, PersistBits: 32, Quorum: 1,
				RS: []kaRSWant{
					{Addr: "192.0.2.21:80", Weight: 3, Fwd: ipvs.Direct, Check: tcpChk(80, 6*sec, 3*sec, 3)},
					{Addr: "192.0.2.22:80", Weight: 1, Fwd: ipvs.Direct, Check: tcpChk(80, 6*sec, 3*sec, 3)},
				}},
			{Addr: "192.0.2.100:443", Proto: ipvs.TCP, Sched: "wlc", Fwd: ipvs.Direct, Persistence: 50 * sec, PersistBits: 32, Quorum: 1,
				RS: []kaRSWant{
					{Addr: "192.0.2.21:443", Weight: 3, Fwd: ipvs.Direct, Check: tcpChk(443, 6*sec, 3*sec, 2)},
					{Addr: "192.0.2.22:443", Weight: 1, Fwd: ipvs.Direct, Check: tcpChk(443, 6*sec, 3*sec, 2)},
				}},
		},
		notesContain: []string{"label eth0:vip", "state MASTER"},
	},
	"nat-sync-group.conf": {
		routerID: "lvs-nat-a", scriptUser: "root",
		timeouts: ipvs.Timeouts{TCP: 900 * sec, TCPFin: 120 * sec, UDP: 300 * sec},
		scripts: []vrrp.TrackScript{{Name: "chk_uplink", Command: []string{"/usr/local/bin/check-uplink", "203.0.113.1"},
			Interval: 3 * sec, Timeout: 3 * sec, Weight: 0, Rise: 1, Fall: 2}},
		groups: []vrrp.SyncGroup{{Name: "VG_DIRECTOR", Instances: []string{"VI_OUTSIDE", "VI_INSIDE"}}},
		csync: &lvsdconf.ConnectionSync{Instance: "VI_OUTSIDE", Daemon: lvsync.Config{Interface: "eth1", SyncID: 10,
			Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1, MaxLen: 1400}},
		instances: []kaInst{
			{Name: "VI_OUTSIDE", Iface: "eth0", VRID: 10, Priority: 150, Version: vrrp.V2, Advert: sec, Auth: "lvsnat",
				VIPs: []string{"203.0.113.10/24"}, Preempt: true, TrackIfs: []string{"eth0"}, TrackScripts: []string{"chk_uplink"}, GARP: defGARP},
			{Name: "VI_INSIDE", Iface: "eth1", VRID: 11, Priority: 150, Version: vrrp.V2, Advert: sec, Auth: "lvsnat",
				VIPs: []string{"198.51.100.1/24"}, Preempt: true, TrackIfs: []string{"eth1"}, GARP: defGARP},
		},
		services: []kaSvc{
			{Addr: "203.0.113.10:80", Proto: ipvs.TCP, Sched: "wrr", Fwd: ipvs.NAT, Persistence: 300 * sec, PersistBits: 32,
				Quorum: 2, Hysteresis: 1, Sorry: "198.51.100.99:8080",
				RS: []kaRSWant{
					{Addr: "198.51.100.21:8080", Weight: 1, Fwd: ipvs.NAT, Check: httpChk(8080, 5*sec, 2*sec, 4, "/status", 200)},
					{Addr: "198.51.100.22:8080", Weight: 1, Fwd: ipvs.NAT, Check: httpChk(8080, 5*sec, 2*sec, 4, "/status", 200)},
				}},
			{Addr: "203.0.113.10:53", Proto: ipvs.UDP, Sched: "rr", Fwd: ipvs.NAT, PersistBits: 32, Quorum: 1,
				RS: []kaRSWant{
					{Addr: "198.51.100.21:53", Weight: 1, Fwd: ipvs.NAT, Check: &kaChk{Kind: healthcheck.DNS, Port: 53, Interval: 10 * sec, Timeout: 5 * sec, Rise: 1, Fall: 4, DNSName: "example.org", DNSType: 1}},
					{Addr: "198.51.100.22:53", Weight: 1, Fwd: ipvs.NAT, Check: &kaChk{Kind: healthcheck.DNS, Port: 53, Interval: 10 * sec, Timeout: 5 * sec, Rise: 1, Fall: 4, DNSName: "example.org", DNSType: 1}},
				}},
		},
		notesContain: []string{"script_user = \"root\""},
	},
	"tun.conf": {
		routerID: "tun-a", scriptUser: lvsdconf.DefaultScriptUser,
		instances: []kaInst{{Name: "VI_TUN", Iface: "eth0", VRID: 60, Priority: 120, Version: vrrp.V2, Advert: sec,
			VIPs: []string{"192.0.2.150/32"}, Preempt: true, TrackIfs: []string{"eth0"}, GARP: defGARP}},
		services: []kaSvc{{Addr: "192.0.2.150:80", Proto: ipvs.TCP, Sched: "rr", Fwd: ipvs.Tunnel, Persistence: 300 * sec, PersistBits: 24, Quorum: 1,
			RS: []kaRSWant{
				{Addr: "203.0.113.31:80", Weight: 2, Fwd: ipvs.Tunnel, Check: httpChk(80, 10*sec, 5*sec, 2, "/healthz", 200, 204)},
				{Addr: "203.0.113.32:80", Weight: 2, Fwd: ipvs.Tunnel, Check: httpChk(80, 10*sec, 5*sec, 2, "/healthz", 200, 204)},
			}}},
	},
	"fwmark.conf": {
		routerID: "fw-a", scriptUser: lvsdconf.DefaultScriptUser,
		instances: []kaInst{{Name: "VI_1", Iface: "eth0", VRID: 51, Priority: 150, Version: vrrp.V2, Advert: sec,
			VIPs: []string{"192.0.2.100/24"}, Preempt: true, TrackIfs: []string{"eth0"}, GARP: defGARP}},
		services: []kaSvc{{FWMark: 1, Proto: ipvs.TCP, Sched: "sh", Flags: ipvs.FlagSched2, Fwd: ipvs.Direct, Persistence: 600 * sec, PersistBits: 32, Quorum: 1,
			RS: []kaRSWant{
				// keepalived clears the port of a DR fwmark real server; the check keeps connect_port.
				{Addr: "192.0.2.21:0", Weight: 1, Fwd: ipvs.Direct, Check: tcpChk(443, 3*sec, 2*sec, 2)},
				{Addr: "192.0.2.22:0", Weight: 1, Fwd: ipvs.Direct, Check: tcpChk(443, 3*sec, 2*sec, 2)},
			}}},
	},
	"unicast.conf": {
		routerID: "dir-a", scriptUser: "keepalived_script",
		instances: []kaInst{{Name: "VI_1", Iface: "eth0", VRID: 51, Priority: 150, Version: vrrp.V2, Advert: sec,
			VIPs: []string{"192.0.2.100/24"}, Preempt: false, Source: "192.0.2.11", Peers: []string{"192.0.2.12"},
			TrackIfs: []string{"eth0"}, GARP: defGARP}},
		services: []kaSvc{{Addr: "192.0.2.100:6443", Proto: ipvs.TCP, Sched: "rr", Fwd: ipvs.NAT, PersistBits: 32, Quorum: 1,
			RS: []kaRSWant{
				{Addr: "198.51.100.21:6443", Weight: 1, Fwd: ipvs.NAT, Check: httpChk(6443, 2*sec, sec, 2, "/healthz", 200).tls()},
				{Addr: "198.51.100.22:6443", Weight: 1, Fwd: ipvs.NAT, Check: httpChk(6443, 2*sec, sec, 2, "/healthz", 200).tls()},
			}}},
	},
	"v2-auth.conf": {
		routerID: "dir-a", scriptUser: lvsdconf.DefaultScriptUser,
		instances: []kaInst{
			// state MASTER: keepalived clears preempt_delay.
			{Name: "VI_1", Iface: "eth0", VRID: 51, Priority: 200, Version: vrrp.V2, Advert: 2 * sec, Auth: "12345678",
				VIPs: []string{"192.0.2.101/24"}, Preempt: true, TrackIfs: []string{"eth0"}, GARP: vrrp.GARP{Delay: 10 * sec, Repeat: 3}},
			{Name: "VI_2", Iface: "eth0", VRID: 52, Priority: 100, Version: vrrp.V2, Advert: 2 * sec, Auth: "s3cret",
				VIPs: []string{"192.0.2.102/24"}, Preempt: true, PreemptDelay: 15500 * time.Millisecond, TrackIfs: []string{"eth0"},
				GARP: vrrp.GARP{Delay: 10 * sec, Repeat: 1}},
		},
		notesContain: []string{"first 8 characters", "ignores it with state MASTER"},
	},
	"v3-fractional.conf": {
		routerID: "fast-a", scriptUser: lvsdconf.DefaultScriptUser,
		instances: []kaInst{
			{Name: "VI_V4", Iface: "eth0", VRID: 71, Priority: 200, Version: vrrp.V3, Advert: 500 * time.Millisecond,
				VIPs: []string{"192.0.2.171/24"}, Excluded: []string{"192.0.2.172/24", "192.0.2.173/24"}, Preempt: true,
				TrackIfs: []string{"eth0", "eth1"}, GARP: defGARP},
			{Name: "VI_V6", Iface: "eth0", VRID: 72, Priority: 200, Version: vrrp.V3, Advert: 250 * time.Millisecond,
				VIPs: []string{"2001:db8::171/64"}, Preempt: true, TrackIfs: []string{"eth0"}, GARP: defGARP},
		},
		services: []kaSvc{{Addr: "[2001:db8::171]:80", IPv6: true, Proto: ipvs.TCP, Sched: "lc", Fwd: ipvs.Direct, PersistBits: 128, Quorum: 1,
			RS: []kaRSWant{
				{Addr: "[2001:db8::21]:80", Weight: 10, Fwd: ipvs.Direct, Check: tcpChk(80, 1500*time.Millisecond, 500*time.Millisecond, 2)},
				{Addr: "[2001:db8::22]:80", Weight: 10, Fwd: ipvs.Direct, Check: tcpChk(80, 1500*time.Millisecond, 500*time.Millisecond, 2)},
			}}},
	},
	"track-script.conf": {
		routerID: "haproxy-a", scriptUser: "keepalived_script",
		scripts: []vrrp.TrackScript{
			{Name: "chk_haproxy", Command: []string{"/usr/bin/killall", "-0", "haproxy"}, Interval: 2 * sec, Timeout: sec, Weight: -60, Rise: 2, Fall: 2},
			{Name: "chk_disk", Command: []string{"/usr/local/bin/check-disk", "/var"}, Interval: 10 * sec, Timeout: 5 * sec, Weight: 0, Rise: 1, Fall: 3},
		},
		instances: []kaInst{
			{Name: "VI_1", Iface: "eth0", VRID: 51, Priority: 150, Version: vrrp.V2, Advert: sec, VIPs: []string{"192.0.2.100/24"},
				Preempt: true, TrackIfs: []string{"eth0"}, TrackScripts: []string{"chk_haproxy", "chk_disk"}, GARP: defGARP},
			{Name: "VI_2", Iface: "eth1", VRID: 52, Priority: 100, Version: vrrp.V2, Advert: sec, VIPs: []string{"198.51.100.100/24"},
				Preempt: true, TrackIfs: []string{"eth1"}, TrackScripts: []string{"chk_haproxy"}, GARP: defGARP},
		},
	},
	"notify.conf": {
		routerID: "notify-a", scriptUser: "root",
		instances: []kaInst{{Name: "VI_1", Iface: "eth0", VRID: 51, Priority: 150, Version: vrrp.V2, Advert: sec,
			VIPs: []string{"192.0.2.100/24"}, Preempt: true, TrackIfs: []string{"eth0"}, GARP: defGARP,
			Notify: vrrp.Notify{
				Master: []string{"/usr/local/bin/keepalived-notify.sh", "master", "VI_1"},
				Backup: []string{"/usr/local/bin/keepalived-backup.sh"},
				Fault:  []string{"/usr/local/bin/keepalived-notify.sh", "fault", "link lost"},
				Stop:   []string{"/usr/bin/logger", "-t", "keepalived", "stopped", ">", "/dev/null"},
			}}},
		services: []kaSvc{{Addr: "192.0.2.100:25", Proto: ipvs.TCP, Sched: "wlc", Fwd: ipvs.Direct, PersistBits: 32, Quorum: 1,
			RS: []kaRSWant{{Addr: "192.0.2.25:25", Weight: 1, Fwd: ipvs.Direct,
				Check:      &kaChk{Kind: healthcheck.Script, Port: 25, Interval: 15 * sec, Timeout: 10 * sec, Rise: 1, Fall: 1, Command: []string{"/usr/local/bin/check-smtp", "192.0.2.25"}},
				NotifyUp:   []string{"/usr/local/bin/rs-event", "up", "192.0.2.25"},
				NotifyDown: []string{"/usr/local/bin/rs-event", "down", "192.0.2.25"},
			}}}},
		notesContain: []string{"without a shell", "appends the new state"},
	},
	"include.conf": {
		routerID: "inc-a", scriptUser: lvsdconf.DefaultScriptUser,
		instances: []kaInst{{Name: "VI_INC", Iface: "eth0", VRID: 81, Priority: 150, Version: vrrp.V2, Advert: sec,
			VIPs: []string{"192.0.2.181/24"}, Preempt: true, TrackIfs: []string{"eth0"}, GARP: defGARP}},
		services: []kaSvc{{Addr: "192.0.2.181:80", Proto: ipvs.TCP, Sched: "rr", Fwd: ipvs.NAT, PersistBits: 32, Quorum: 1,
			RS: []kaRSWant{
				{Addr: "198.51.100.41:8080", Weight: 1, Fwd: ipvs.NAT, Check: tcpChk(8080, 5*sec, 2*sec, 2)},
				{Addr: "198.51.100.42:8080", Weight: 2, Fwd: ipvs.NAT, Check: tcpChk(8080, 5*sec, 2*sec, 2)},
			}}},
	},
	// One file for both directors: a key file.conf@ID imports it with
	// config id ID.
	"shared-pair.conf@dir-a": sharedPair("dir-a", 150, "192.0.2.11", "192.0.2.12"),
	"shared-pair.conf@dir-b": sharedPair("dir-b", 100, "192.0.2.12", "192.0.2.11"),
	"checkers.conf": {
		routerID: "checks-a", scriptUser: "keepalived_script",
		instances: []kaInst{{Name: "VI_1", Iface: "eth0", VRID: 51, Priority: 150, Version: vrrp.V2, Advert: sec,
			VIPs: []string{"192.0.2.100/24"}, Preempt: true, TrackIfs: []string{"eth0"}, GARP: defGARP}},
		services: []kaSvc{
			{Addr: "192.0.2.100:22", Proto: ipvs.TCP, Sched: "lc", Fwd: ipvs.Direct, PersistBits: 32, Quorum: 1,
				RS: []kaRSWant{{Addr: "192.0.2.21:22", Weight: 1, Fwd: ipvs.Direct, Check: tcpChk(22, 10*sec, 3*sec, 4)}}},
			{Addr: "192.0.2.100:80", Proto: ipvs.TCP, Sched: "wrr", Fwd: ipvs.Direct, PersistBits: 32, Quorum: 1,
				RS: []kaRSWant{{Addr: "192.0.2.21:80", Weight: 2, Fwd: ipvs.Direct, Check: &kaChk{Kind: healthcheck.HTTP, Port: 80,
					Interval: 6 * sec, Timeout: 3 * sec, Rise: 1, Fall: 4, Path: "/index.html", Status: []int{200},
					Digest: "9b3a0c85a887a256d6939da88aabd8cd", Host: "www.example.org", Verify: true}}}},
			{Addr: "192.0.2.100:443", Proto: ipvs.TCP, Sched: "wrr", Fwd: ipvs.Direct, PersistBits: 32, Quorum: 1,
				RS: []kaRSWant{{Addr: "192.0.2.21:443", Weight: 2, Fwd: ipvs.Direct, Check: httpChk(443, 6*sec, 3*sec, 2, "/health").tls()}}},
			{Addr: "192.0.2.100:25", Proto: ipvs.TCP, Sched: "rr", Fwd: ipvs.Direct, PersistBits: 32, Quorum: 1,
				RS: []kaRSWant{{Addr: "192.0.2.25:25", Weight: 1, Fwd: ipvs.Direct, Check: &kaChk{Kind: healthcheck.Script, Port: 25,
					Interval: 20 * sec, Timeout: 5 * sec, Rise: 1, Fall: 1, Command: []string{"/usr/local/bin/check-smtp", "192.0.2.25"}}}}},
			{Addr: "192.0.2.100:53", Proto: ipvs.UDP, Sched: "rr", Fwd: ipvs.Direct, PersistBits: 32, Quorum: 1,
				RS: []kaRSWant{{Addr: "192.0.2.53:53", Weight: 1, Fwd: ipvs.Direct, Check: &kaChk{Kind: healthcheck.DNS, Port: 53,
					Interval: 5 * sec, Timeout: 2 * sec, Rise: 1, Fall: 3, DNSName: "www.example.org", DNSType: 28}}}},
		},
	},
}

// sharedPair is what shared-pair.conf is on the director with config id
// id: its router_id, priority, source address and peer.
func sharedPair(id string, prio uint8, source, peer string) kaWant {
	web := httpChk(8080, 3*sec, 2*sec, 3, "/healthz", 200)
	return kaWant{
		routerID: id, scriptUser: "keepalived_script",
		scripts: []vrrp.TrackScript{{Name: "chk_nginx", Command: []string{"/usr/bin/pgrep", "-x", "nginx"},
			Interval: 2 * sec, Timeout: sec, Weight: -60, Rise: 2, Fall: 2}},
		instances: []kaInst{{Name: "VI_WEB", Iface: "eth0", VRID: 61, Priority: prio, Version: vrrp.V2, Advert: sec,
			VIPs: []string{"192.0.2.130/24"}, Preempt: true, Source: source, Peers: []string{peer},
			TrackIfs: []string{"eth0"}, TrackScripts: []string{"chk_nginx"}, GARP: defGARP}},
		services: []kaSvc{{Addr: "192.0.2.130:80", Proto: ipvs.TCP, Sched: "wrr", Fwd: ipvs.Direct, PersistBits: 32, Quorum: 1,
			RS: []kaRSWant{
				{Addr: "192.0.2.31:80", Weight: 2, Fwd: ipvs.Direct, Check: web},
				{Addr: "192.0.2.32:80", Weight: 1, Fwd: ipvs.Direct, Check: web},
			}}},
	}
}

// kaTestID is the config id the corpus files without an @ID key are
// imported with; none of their lines depends on it.
const kaTestID = "lvsd-test"

// importParsed imports file and parses the result as lvsd would.
func importParsed(t *testing.T, file, configID string) (*lvsdconf.Config, []byte, []Note) {
	t.Helper()
	out, notes, err := Import(file, configID)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	cfg, diags := lvsdconf.Parse(out, "imported.hcl", everyHost{})
	for _, d := range diags {
		t.Errorf("imported HCL: %s", lvsdconf.FormatDiagnostic(d))
	}
	if cfg == nil {
		t.Fatalf("imported HCL does not parse:\n%s", out)
	}
	return cfg, out, notes
}

func TestImportKeepalivedCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/*.conf")
	if err != nil || len(files) < 10 {
		t.Fatalf("want at least 10 keepalived.conf files, have %d (%v)", len(files), err)
	}
	covered := map[string]bool{}
	for _, file := range files {
		name := filepath.Base(file)
		keys := []string{name}
		if _, ok := kaCorpus[name]; !ok {
			keys = nil
			for key := range kaCorpus {
				if strings.HasPrefix(key, name+"@") {
					keys = append(keys, key)
				}
			}
			sort.Strings(keys)
		}
		if len(keys) == 0 {
			t.Errorf("no expectations written for %s", name)
		}
		for _, key := range keys {
			covered[key] = true
			testCorpusFile(t, file, key)
		}
	}
	for key := range kaCorpus {
		if !covered[key] {
			t.Errorf("expectations for %s, which is not in testdata", key)
		}
	}
}

// testCorpusFile imports file as kaCorpus[key] says: "file.conf" with
// kaTestID, "file.conf@ID" with config id ID, its golden file.ID.hcl.
func testCorpusFile(t *testing.T, file, key string) {
	base, id, conditional := strings.Cut(key, "@")
	name := strings.TrimSuffix(base, ".conf")
	if conditional {
		name += "." + id
	} else {
		id = kaTestID
	}
	want := kaCorpus[key]
	t.Run(strings.ReplaceAll(name, ".", "@"), func(t *testing.T) {
		cfg, out, notes := importParsed(t, file, id)
		for _, n := range notes {
			if n.ChangesBehaviour {
				t.Errorf("unexpected behaviour-changing note: %s", n)
			}
		}
		checkKA(t, cfg, want)
		for _, text := range want.notesContain {
			found := false
			for _, n := range notes {
				found = found || strings.Contains(n.String(), text)
			}
			if !found {
				t.Errorf("no note mentions %q; notes:\n%s", text, notesText(notes))
			}
		}
		if header := fmt.Sprintf("# Imported for keepalived config id %q", id); strings.Contains(string(out), header) != conditional {
			t.Errorf("header %q in the output: %v, want %v", header, !conditional, conditional)
		}
		golden(t, name+".conf", out)
	})
}

func notesText(notes []Note) string {
	var b strings.Builder
	for _, n := range notes {
		b.WriteString(n.String() + "\n")
	}
	return b.String()
}

// golden compares out with the stored output, so that a change of the
// importer's output is seen in review; -update rewrites it.
func golden(t *testing.T, name string, out []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".conf")+".hcl")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./conf -run Keepalived -update)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("output differs from %s (run with -update if intended):\n%s", path, out)
	}
}

func checkKA(t *testing.T, cfg *lvsdconf.Config, want kaWant) {
	t.Helper()
	equal(t, "router_id", cfg.Global.RouterID, want.routerID)
	equal(t, "script_user", cfg.Global.ScriptUser, want.scriptUser)
	equal(t, "ipvs timeouts", cfg.Global.IPVSTimeouts, want.timeouts)

	equal(t, "instance count", len(cfg.Instances), len(want.instances))
	for i := range min(len(cfg.Instances), len(want.instances)) {
		c, w := cfg.Instances[i], want.instances[i]
		got := kaInst{
			Name: c.Name, Iface: c.Interface, VRID: c.VRID, Priority: c.Priority, Version: c.Version, Advert: c.AdvertInterval,
			VIPs: prefixStrings(c.VIPs), Excluded: prefixStrings(c.VIPsExcluded), Preempt: c.Preempt, PreemptDelay: c.PreemptDelay,
			Auth: c.AuthPass, Peers: addrStrings(c.UnicastPeers), TrackIfs: c.TrackInterfaces, TrackScripts: c.TrackScripts,
			GARP: c.GARP, Notify: c.Notify,
		}
		if c.SourceIP.IsValid() {
			got.Source = c.SourceIP.String()
		}
		equal(t, "instance "+w.Name, got, w)
	}
	equal(t, "track scripts", cfg.TrackScripts, want.scripts)
	equal(t, "sync groups", cfg.SyncGroups, want.groups)
	equal(t, "connection sync", cfg.ConnectionSync, want.csync)

	equal(t, "service count", len(cfg.VirtualServers), len(want.services))
	for i := range min(len(cfg.VirtualServers), len(want.services)) {
		vs, w := cfg.VirtualServers[i], want.services[i]
		got := kaSvc{
			FWMark: vs.Service.FWMark, IPv6: vs.Service.IPv6, Proto: vs.Service.Protocol, Sched: vs.Service.Scheduler,
			Flags: vs.Service.Flags, Fwd: vs.Forwarding, Persistence: vs.Service.Persistence, PersistBits: vs.Service.PersistenceBits,
			Quorum: vs.Quorum, Hysteresis: vs.Hysteresis, Inhibit: vs.InhibitOnFailure,
		}
		if vs.Service.FWMark == 0 {
			got.Addr = vs.Address().String()
		}
		if vs.SorryServer != nil {
			got.Sorry = vs.SorryServer.Key().String()
		}
		for _, rs := range vs.RealServers {
			r := kaRSWant{Addr: rs.Destination.Key().String(), Weight: rs.Destination.Weight, Fwd: rs.Destination.Forwarding,
				NotifyUp: rs.NotifyUp, NotifyDown: rs.NotifyDown}
			if hc := rs.Check; hc != nil {
				r.Check = &kaChk{Kind: hc.Kind, Port: hc.Port, Interval: hc.Interval, Timeout: hc.Timeout, Rise: hc.Rise, Fall: hc.Fall}
				switch hc.Kind {
				case healthcheck.HTTP:
					r.Check.Path, r.Check.Digest, r.Check.Host = hc.HTTP.Path, hc.HTTP.Digest, hc.HTTP.Host
					r.Check.Status, r.Check.TLS, r.Check.Verify = hc.HTTP.Status, hc.HTTP.TLS, hc.HTTP.TLSVerify
					if hc.HTTP.Method != "GET" {
						t.Errorf("%s: method %q, want GET", r.Addr, hc.HTTP.Method)
					}
				case healthcheck.Script:
					r.Check.Command = hc.Script.Command
				case healthcheck.DNS:
					r.Check.DNSName, r.Check.DNSType = hc.DNS.Name, hc.DNS.Type
				}
			}
			got.RS = append(got.RS, r)
		}
		name := w.Addr
		if name == "" {
			name = "fwmark"
		}
		equal(t, "service "+name, got.withoutRS(), w.withoutRS())
		equal(t, "real server count of "+name, len(got.RS), len(w.RS))
		for j := range min(len(got.RS), len(w.RS)) {
			g, ww := got.RS[j], w.RS[j]
			equal(t, name+" real server "+ww.Addr, kaRSWant{Addr: g.Addr, Weight: g.Weight, Fwd: g.Fwd, NotifyUp: g.NotifyUp, NotifyDown: g.NotifyDown},
				kaRSWant{Addr: ww.Addr, Weight: ww.Weight, Fwd: ww.Fwd, NotifyUp: ww.NotifyUp, NotifyDown: ww.NotifyDown})
			if (g.Check == nil) != (ww.Check == nil) {
				t.Errorf("%s real server %s: check %v, want %v", name, ww.Addr, g.Check, ww.Check)
				continue
			}
			if g.Check != nil {
				equal(t, name+" real server "+ww.Addr+" check", *g.Check, *ww.Check)
			}
		}
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func (s kaSvc) withoutRS() kaSvc { s.RS = nil; return s }

func prefixStrings(ps []netip.Prefix) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func addrStrings(as []netip.Addr) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

// TestImportKeepalivedDeterministic: the same input gives the same bytes.
func TestImportKeepalivedDeterministic(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.conf")
	for _, file := range files {
		a, _, errA := Import(file, "dir-a")
		for range 5 {
			b, _, errB := Import(file, "dir-a")
			if !bytes.Equal(a, b) || (errA == nil) != (errB == nil) {
				t.Fatalf("%s: two imports differ", file)
			}
		}
	}
}

// writeConf writes files into a temporary directory and returns its path.
func writeConf(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const kaInstance = `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100/24
    }
}
`

func TestImportKeepalivedErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"unclosed block", map[string]string{"k.conf": "global_defs {\n}\n\nvrrp_instance VI_1 {\n    interface eth0\n    virtual_ipaddress {\n        192.0.2.1\n    }\n"},
			[]string{"k.conf:4: ", `"vrrp_instance"`, "never closed"}},
		{"extra brace", map[string]string{"k.conf": kaInstance + "}\n"},
			[]string{"k.conf:8: ", "unexpected '}'"}},
		{"unknown top-level block", map[string]string{"k.conf": kaInstance + "\nvrrp_instanse VI_2 {\n    interface eth0\n}\n"},
			[]string{"k.conf:9: ", `unknown top-level block "vrrp_instanse"`}},
		{"include cycle", map[string]string{
			"k.conf":        "include conf.d/a.conf\n",
			"conf.d/a.conf": kaInstance + "include b.conf\n",
			"conf.d/b.conf": "# b includes a again\ninclude ./a.conf\n",
		}, []string{"b.conf:2: ", "include cycle", "a.conf → ", "b.conf → ", "a.conf"}},
		{"self include", map[string]string{"k.conf": "include k.conf\n"},
			[]string{"k.conf:1: ", "include cycle"}},
		{"unterminated quote", map[string]string{"k.conf": "global_defs {\n  router_id \"dir-a\n}\n"},
			[]string{"k.conf:2: ", "unterminated"}},
		{"bad number", map[string]string{"k.conf": strings.Replace(kaInstance, "virtual_router_id 51", "virtual_router_id 300", 1)},
			[]string{"k.conf:3: ", "virtual_router_id", "1..255"}},
		{"missing vrid", map[string]string{"k.conf": strings.Replace(kaInstance, "virtual_router_id 51", "", 1)},
			[]string{"k.conf:1: ", "no virtual_router_id"}},
		{"invalid address", map[string]string{"k.conf": strings.Replace(kaInstance, "192.0.2.100/24", "192.0.2.300/24", 1)},
			[]string{"k.conf:5: ", "192.0.2.300/24"}},
		{"undefined parameter", map[string]string{"k.conf": "$PRIO=150\n" + strings.Replace(kaInstance, "    interface eth0\n", "    interface eth0\n    priority $PRI0\n", 1)},
			[]string{"k.conf:4: ", "$PRI0 is not defined before this line", "$PRI0=value"}},
		{"undefined in braces", map[string]string{"k.conf": strings.Replace(kaInstance, "192.0.2.100/24", "${VIP}/24", 1)},
			[]string{"k.conf:5: ", "${VIP} is not defined"}},
		{"defined after its use", map[string]string{"k.conf": strings.Replace(kaInstance, "virtual_router_id 51", "virtual_router_id $VRID", 1) + "$VRID=51\n"},
			[]string{"k.conf:3: ", "$VRID is not defined before this line"}},
		{"defined only for other ids", map[string]string{"k.conf": "@dir-a $PRIO=150\n@dir-b $PRIO=100\n" + strings.Replace(kaInstance, "    interface eth0\n", "    interface eth0\n    priority $PRIO\n", 1)},
			[]string{"k.conf:5: ", `$PRIO is not defined for config id "lvsd-test"`, "@dir-a at ", "k.conf:1", "@dir-b at ", "k.conf:2"}},
		{"undefined in an included file", map[string]string{
			"k.conf":  "$VRID=51\ninclude vi.conf\n",
			"vi.conf": "# the instance\n" + strings.Replace(kaInstance, "    interface eth0\n", "    interface $IFACE\n", 1),
		}, []string{"vi.conf:3: ", "$IFACE is not defined"}},
		{"multi-line parameter inside a line", map[string]string{"k.conf": "$ADDRS= \\\n    192.0.2.100/24 \\\n    192.0.2.101/24\n" +
			strings.Replace(kaInstance, "        192.0.2.100/24\n", "        $ADDRS # the VIPs\n        x $ADDRS y\n", 1)},
			[]string{"k.conf:9: ", "$ADDRS holds several lines (defined at ", "k.conf:1)", "end of a line"}},
		{"parameter using itself", map[string]string{"k.conf": "$A=x${A}\n" + strings.Replace(kaInstance, "eth0", "$A", 1)},
			[]string{"k.conf:3: ", "does not end", "$A"}},
		{"multi-line parameters using themselves", map[string]string{"k.conf": "$M= \\\n  x \\\n  $M\n" + kaInstance + "$M\n"},
			[]string{"k.conf:11: ", "more than 64 deep"}},
		{"blank before =", map[string]string{"k.conf": "$PRIO =150\n" + kaInstance},
			[]string{"k.conf:1: ", "$PRIO: a parameter definition takes no blank before '='"}},
		{"sequence block", map[string]string{"k.conf": strings.Replace(kaInstance, "        192.0.2.100/24\n", "        ~SEQ(N, 100, 102) 192.0.2.${N}/24\n", 1)},
			[]string{"k.conf:5: ", "~SEQ blocks are not supported"}},
		{"list block behind a condition", map[string]string{"k.conf": strings.Replace(kaInstance, "        192.0.2.100/24\n", "        @lvsd-test ~LST(N, 100, 101) 192.0.2.${N}/24\n", 1)},
			[]string{"k.conf:5: ", "~LST blocks are not supported"}},
		{"environment", map[string]string{"k.conf": strings.Replace(kaInstance, "eth0", "${_ENV IFACE}", 1)},
			[]string{"k.conf:2: ", "${_ENV}", "not supported", "define a parameter"}},
		{"random", map[string]string{"k.conf": strings.Replace(kaInstance, "virtual_router_id 51", "virtual_router_id ${_RANDOM 1 255}", 1)},
			[]string{"k.conf:3: ", "${_RANDOM}", "not supported"}},
		{"multi-line definition for another id", map[string]string{"k.conf": "@dir-b $VIPS= \\\n    192.0.2.100/24\n" + kaInstance},
			[]string{"k.conf:1: ", "multi-line definition of $VIPS is behind @dir-b", `config id "lvsd-test"`, "continuation lines"}},
		{"value lvsd rejects", map[string]string{"k.conf": kaInstance + "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    persistence_granularity 255.0.255.0\n}\n"},
			[]string{"not valid for lvsd", "k.conf:10: ", "persistence_netmask"}},
		{"brace without keyword", map[string]string{"k.conf": "{\n}\n"},
			[]string{"k.conf:1: ", "without a keyword"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeConf(t, tc.files)
			_, _, err := Import(filepath.Join(dir, "k.conf"), kaTestID)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestImportKeepalivedMissingFile(t *testing.T) {
	if _, _, err := Import(filepath.Join(t.TempDir(), "none.conf"), kaTestID); err == nil || !strings.Contains(err.Error(), "none.conf") {
		t.Errorf("err = %v", err)
	}
}

// kaNote finds the note about a statement that contains stmt.
func kaNote(notes []Note, stmt string) *Note {
	for i, n := range notes {
		if strings.Contains(n.Statement, stmt) {
			return &notes[i]
		}
	}
	return nil
}

// TestImportKeepalivedNotes: each snippet converts to valid HCL with a note
// on the named statement, behaviour-changing or not, and a comment in the
// HCL at that place.
func TestImportKeepalivedNotes(t *testing.T) {
	vs := func(body string) string {
		return kaInstance + "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    lb_kind NAT\n" + body + "}\n"
	}
	for _, tc := range []struct {
		name, conf, stmt string
		changes          bool
		text             string // in the note
	}{
		{"AH authentication", strings.Replace(kaInstance, "    interface eth0\n", "    interface eth0\n    authentication {\n        auth_type AH\n        auth_pass secret\n    }\n", 1),
			"auth_type AH", true, "AH"},
		{"state is ignored", strings.Replace(kaInstance, "    interface eth0\n", "    state MASTER\n    interface eth0\n", 1),
			"state MASTER", false, "elects"},
		{"multiple urls", vs("    real_server 198.51.100.21 8080 {\n        HTTP_GET {\n            url {\n                path /a\n                status_code 200\n            }\n            url {\n                path /b\n                status_code 302\n            }\n        }\n    }\n"),
			"url", true, "one URL"},
		{"check kind lvsd lacks", vs("    real_server 198.51.100.21 25 {\n        SMTP_CHECK {\n            helo_name lvs\n        }\n    }\n"),
			"SMTP_CHECK", true, "no SMTP check"},
		{"second checker", vs("    real_server 198.51.100.21 80 {\n        TCP_CHECK {\n        }\n        MISC_CHECK {\n            misc_path /bin/true\n        }\n    }\n"),
			"MISC_CHECK", true, "one check"},
		{"unknown lb_kind", vs("    lb_kind FNAT\n    real_server 198.51.100.21 80 {\n    }\n"),
			"lb_kind FNAT", true, "forwarding"},
		{"unknown scheduler", vs("    lb_algo twos\n    real_server 198.51.100.21 80 {\n    }\n"),
			"lb_algo twos", true, "wlc"},
		{"weighted track_interface", strings.Replace(kaInstance, "    interface eth0\n", "    interface eth0\n    track_interface {\n        eth1 weight -20\n    }\n", 1),
			"eth1 weight -20", true, "weighted"},
		{"vmac", strings.Replace(kaInstance, "    interface eth0\n", "    interface eth0\n    use_vmac\n", 1),
			"use_vmac", true, "VMAC"},
		{"generic notify", strings.Replace(kaInstance, "    interface eth0\n", "    interface eth0\n    notify /usr/local/bin/notify\n", 1),
			"notify /usr/local/bin/notify", true, "generic"},
		{"VIP on another device", strings.Replace(kaInstance, "192.0.2.100/24", "192.0.2.100/24 dev eth1", 1),
			"dev eth1", true, "eth0"},
		{"v3 ignores PASS", strings.Replace(kaInstance, "    interface eth0\n", "    version 3\n    interface eth0\n    authentication {\n        auth_type PASS\n        auth_pass secret\n    }\n", 1),
			"auth_pass secret", false, "v3"},
		{"fractional v2 interval", strings.Replace(kaInstance, "    interface eth0\n", "    interface eth0\n    advert_int 1.4\n", 1),
			"advert_int 1.4", false, "whole seconds"},
		{"unknown keyword", strings.Replace(kaInstance, "    interface eth0\n", "    interface eth0\n    frobnicate yes\n", 1),
			"frobnicate", true, "importer"},
		{"misc_dynamic", vs("    real_server 198.51.100.21 80 {\n        MISC_CHECK {\n            misc_path \"/usr/local/bin/weight 1\"\n            misc_dynamic\n        }\n    }\n"),
			"misc_dynamic", true, "weights"},
		{"quorum scripts", vs("    quorum_up /usr/local/bin/up\n    real_server 198.51.100.21 80 {\n    }\n"),
			"quorum_up", true, "quorum"},
		{"sync group notify", kaInstance + "vrrp_sync_group G {\n    group {\n        VI_1\n    }\n    notify_master /usr/local/bin/m\n}\n",
			"notify_master /usr/local/bin/m", true, "per instance"},
		{"non-default multicast group", "global_defs {\n    vrrp_mcast_group4 224.0.0.19\n}\n" + kaInstance,
			"vrrp_mcast_group4", true, "RFC group"},
		{"SSL client certificate", "SSL {\n    certificate /etc/keepalived/client.pem\n}\n" + kaInstance,
			"SSL", true, "client certificate"},
		{"include matching nothing", "include conf.d/*.conf\n" + kaInstance,
			"include", false, "matches no file"},
		{"differing track weights", "vrrp_script chk {\n    script /bin/true\n    weight -10\n}\n" +
			strings.Replace(kaInstance, "    interface eth0\n", "    interface eth0\n    track_script {\n        chk weight -30\n    }\n", 1) +
			strings.NewReplacer("VI_1", "VI_2", "51", "52", "192.0.2.100", "192.0.2.101", "    interface eth0\n", "    interface eth0\n    track_script {\n        chk\n    }\n").Replace(kaInstance),
			"track_script chk", true, "one weight"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeConf(t, map[string]string{"k.conf": tc.conf})
			out, notes, err := Import(filepath.Join(dir, "k.conf"), kaTestID)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, out)
			}
			if _, diags := lvsdconf.Parse(out, "imported.hcl", everyHost{}); len(diags) > 0 {
				t.Errorf("imported HCL: %v\n%s", diags, out)
			}
			n := kaNote(notes, tc.stmt)
			if n == nil {
				t.Fatalf("no note on %q; notes:\n%s", tc.stmt, notesText(notes))
			}
			if n.ChangesBehaviour != tc.changes {
				t.Errorf("note %s: changes behaviour = %v, want %v", n, n.ChangesBehaviour, tc.changes)
			}
			if ChangesBehaviour(notes) != tc.changes {
				t.Errorf("ChangesBehaviour(notes) = %v, want %v\n%s", ChangesBehaviour(notes), tc.changes, notesText(notes))
			}
			if !strings.Contains(n.Text, tc.text) {
				t.Errorf("note %s does not mention %q", n, tc.text)
			}
			if filepath.Base(n.File) != "k.conf" || n.Line < 1 {
				t.Errorf("note %s has no position", n)
			}
			if tc.stmt != "include" && !strings.Contains(string(out), "# keepalived: ") {
				t.Errorf("no comment in the HCL:\n%s", out)
			}
		})
	}
}

// TestImportKeepalivedAHComment: the comment stands where the setting was.
func TestImportKeepalivedAHComment(t *testing.T) {
	conf := strings.Replace(kaInstance, "    interface eth0\n", "    interface eth0\n    authentication {\n        auth_type AH\n        auth_pass secret\n    }\n", 1)
	dir := writeConf(t, map[string]string{"k.conf": conf})
	out, notes, err := Import(filepath.Join(dir, "k.conf"), kaTestID)
	if err != nil {
		t.Fatal(err)
	}
	if !ChangesBehaviour(notes) {
		t.Error("AH is not marked as changing behaviour")
	}
	want := `vrrp "VI_1" {
  interface = "eth0"
  # keepalived: auth_type AH — not carried over: lvsd has no IPsec AH authentication; its adverts carry none, which a peer using AH rejects
  # keepalived: auth_pass secret — not carried over: goes with auth_type AH
  virtual_router_id = 51
`
	if !strings.Contains(string(out), want) {
		t.Errorf("got\n%s\nwant it to contain\n%s", out, want)
	}
	if cfg, _ := lvsdconf.Parse(out, "imported.hcl", everyHost{}); cfg == nil || cfg.Instances[0].AuthPass != "" {
		t.Error("AH must not become a password")
	}
}

// TestImportKeepalivedBehaviour covers conversions that follow what
// keepalived does rather than what the file says.
func TestImportKeepalivedBehaviour(t *testing.T) {
	conf := `global_defs {
    vrrp_version 3
    vrrp_garp_master_refresh 60
    lvs_flush_on_stop
}
vrrp_instance VI_6 {
    state BACKUP
    interface eth0
    virtual_router_id 60
    advert_int 0.123
    dont_track_primary
    virtual_ipaddress {
        2001:db8::60/64
        192.0.2.60/24
    }
    virtual_ipaddress_excluded {
        192.0.2.61/24
    }
}
virtual_server_group WEB {
    192.0.2.70-71 80
    fwmark 7
}
virtual_server group WEB {
    lb_algo rr
    lb_kind DR
    protocol TCP
    quorum 5
    hysteresis 9
    sorry_server 192.0.2.99 8080
    real_server 192.0.2.21 8080 {
        weight 2
        inhibit_on_failure
        HTTP_GET {
            url {
                path /
                status_code 200-299
            }
        }
    }
    real_server 192.0.2.22 80 {
        inhibit_on_failure
        uthreshold 100
    }
}
virtual_server 192.0.2.80 53 {
    real_server 192.0.2.21 53 {
        DNS_CHECK {
        }
    }
}
`
	dir := writeConf(t, map[string]string{"k.conf": conf})
	out, notes, err := Import(filepath.Join(dir, "k.conf"), kaTestID)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cfg, diags := lvsdconf.Parse(out, "imported.hcl", everyHost{})
	if cfg == nil || len(diags) > 0 {
		t.Fatalf("%v\n%s", diags, out)
	}
	in := cfg.Instances[0]
	equal(t, "advert rounded to centiseconds", in.AdvertInterval, 120*time.Millisecond)
	equal(t, "other family VIP dropped, as keepalived does", prefixStrings(in.VIPs), []string{"2001:db8::60/64"})
	equal(t, "excluded VIPs may be of either family", prefixStrings(in.VIPsExcluded), []string{"192.0.2.61/24"})
	equal(t, "dont_track_primary", len(in.TrackInterfaces), 0)
	equal(t, "global garp refresh", in.GARP, vrrp.GARP{Delay: 5 * time.Second, Repeat: 5, Refresh: time.Minute})
	equal(t, "flush_on_stop", cfg.Global.FlushOnStop, true)

	equal(t, "group expands to one service per entry", len(cfg.VirtualServers), 4)
	for i, want := range []string{"192.0.2.70:80", "192.0.2.71:80", "fwmark 7/inet", "udp 192.0.2.80:53"} {
		got := cfg.VirtualServers[i].Service.String()
		if !strings.HasSuffix(got, want) {
			t.Errorf("service %d = %s, want %s", i, got, want)
		}
	}
	web := cfg.VirtualServers[0]
	equal(t, "quorum lowered to total weight", web.Quorum, 3)
	equal(t, "hysteresis not below quorum dropped", web.Hysteresis, 0)
	equal(t, "inhibit_on_failure on every real server", web.InhibitOnFailure, true)
	equal(t, "sorry server port under DR", web.SorryServer.Key().String(), "192.0.2.99:80")
	equal(t, "DR real server port", web.RealServers[0].Destination.Key().String(), "192.0.2.21:80")
	equal(t, "its check keeps the written port", web.RealServers[0].Check.Port, uint16(8080))
	equal(t, "200-299 is the default", web.RealServers[0].Check.HTTP.Status, []int(nil))
	equal(t, "delay_loop defaults to 60s", web.RealServers[0].Check.Interval, time.Minute)
	equal(t, "uthreshold", web.RealServers[1].Destination.UpperThreshold, uint32(100))
	equal(t, "fwmark real servers lose their port under DR", cfg.VirtualServers[2].RealServers[0].Destination.Port, uint16(0))
	dns := cfg.VirtualServers[3]
	equal(t, "protocol defaults to UDP", dns.Service.Protocol, ipvs.UDP)
	equal(t, "dns check defaults", []any{dns.RealServers[0].Check.DNS.Type, dns.RealServers[0].Check.Fall}, []any{healthcheck.DNSType(6), 4})

	if n := kaNote(notes, "DNS_CHECK"); n == nil || !n.ChangesBehaviour {
		t.Errorf("a DNS_CHECK without name must be marked: %v", n)
	}
	if n := kaNote(notes, "192.0.2.60/24"); n == nil || n.ChangesBehaviour {
		t.Errorf("the dropped VIP is noted as keepalived's own behaviour: %v", n)
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		"/usr/bin/killall -0 haproxy":       {"/usr/bin/killall", "-0", "haproxy"},
		`/bin/sh -c 'pgrep x | wc -l'`:      {"/bin/sh", "-c", "pgrep x | wc -l"},
		`/usr/local/bin/n "two words" a\ b`: {"/usr/local/bin/n", "two words", "a b"},
		"  /bin/true  ":                     {"/bin/true"},
		`/bin/echo ''`:                      {"/bin/echo", ""},
	} {
		got, err := splitCommand(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := splitCommand(`/bin/echo 'open`); err == nil {
		t.Error("unterminated quote accepted")
	}
	equal(t, "shellish", []bool{shellish([]string{"/bin/a", "|", "b"}), shellish([]string{"/bin/sh", "-c", "a | b"}), shellish([]string{"/bin/a", "b"})},
		[]bool{true, false, false})
}

func TestKeepalivedLexer(t *testing.T) {
	toks, err := kaLex(`  notify_master "/bin/n 'a b'" root # comment ! more`, kaPos{"f", 1})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range toks {
		got = append(got, kaTokName(tk))
	}
	equal(t, "tokens", got, []string{`"notify_master"`, `"/bin/n 'a b'"`, `"root"`, "comment"})
	toks, _ = kaLex(`virtual_ipaddress{192.0.2.1}!x`, kaPos{"f", 1})
	equal(t, "braces split words", len(toks), 5)
	toks, _ = kaLex(`router_id "a\tb"c'd e'`, kaPos{"f", 1})
	equal(t, "quoted pieces join", toks[1].text, "a\tbcd e")
}

func TestBraceExpand(t *testing.T) {
	equal(t, "expand", braceExpand("/etc/{a,b/{c,d}}.conf"), []string{"/etc/a.conf", "/etc/b/c.conf", "/etc/b/d.conf"})
	equal(t, "no alternation", braceExpand("/etc/{x}.conf"), []string{"/etc/{x}.conf"})
}

func TestExpandRange(t *testing.T) {
	for in, want := range map[string][]string{
		"192.0.2.1-3":           {"192.0.2.1", "192.0.2.2", "192.0.2.3"},
		"192.0.2.255-192.0.3.1": {"192.0.2.255", "192.0.3.0", "192.0.3.1"},
		"192.0.2.8/31":          {"192.0.2.8", "192.0.2.9"},
		"2001:db8::a-c":         {"2001:db8::a", "2001:db8::b", "2001:db8::c"},
		"192.0.2.9":             {"192.0.2.9"},
	} {
		got, err := expandRange(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		equal(t, in, addrStrings(got), want)
	}
	for _, bad := range []string{"192.0.2.0/16", "192.0.2.9-1", "x-y"} {
		if _, err := expandRange(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FuzzImportKeepalived: no input panics the importer, and whatever it
// returns without error is valid lvsd HCL.
func FuzzImportKeepalived(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.conf")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		fs := kaFS{
			read: func(p string) ([]byte, error) {
				if p == "k.conf" {
					return src, nil
				}
				return nil, os.ErrNotExist
			},
			glob: func(p string) ([]string, error) { return nil, nil },
			real: func(p string) string { return p },
		}
		out, _, err := importKeepalived("k.conf", "dir-a", fs)
		if err != nil {
			return
		}
		if _, diags := lvsdconf.Parse(out, "imported.hcl", everyHost{}); diags.HasErrors() {
			t.Fatalf("imported HCL invalid without an error: %v\n%s", diags, out)
		}
	})
}

func TestBraceExpandBounded(t *testing.T) {
	done := make(chan int)
	go func() { done <- len(braceExpand(strings.Repeat("{a,b}", 40))) }()
	select {
	case n := <-done:
		if n > 2*maxBraceExpansion+2 {
			t.Errorf("%d expansions", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("brace expansion does not stop")
	}
}

// TestImportKeepalivedLayout: comments of the file travel with their
// statements; a brace may stand on the next line; one-line blocks work.
func TestImportKeepalivedLayout(t *testing.T) {
	conf := `! the director
vrrp_instance VI_1 { # the only instance
    interface eth0
    virtual_router_id 51
    priority 150 # dir-b: 100
    virtual_ipaddress { 192.0.2.100/24 }
}

virtual_server 192.0.2.100 80
{
    protocol TCP
    # the first server
    real_server 192.0.2.21 80
    {
        weight 2
    }
}
# end of file
`
	dir := writeConf(t, map[string]string{"k.conf": conf})
	out, _, err := Import(filepath.Join(dir, "k.conf"), kaTestID)
	if err != nil {
		t.Fatal(err)
	}
	want := `# the director
# the only instance
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  # dir-b: 100
  priority    = 150
  version     = 2
  virtual_ips = ["192.0.2.100/24"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

virtual_server "192.0.2.100:80" {
  address  = "192.0.2.100:80"
  protocol = "tcp"

  # the first server
  real_server "192.0.2.21:80" {
    weight = 2
  }
}

# end of file
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// kaLines reads the files as keepalived with config id id would, and
// returns each statement line as words (comments left out).
func kaLines(t *testing.T, files map[string]string, id string) ([]string, *kaReader, error) {
	t.Helper()
	dir := writeConf(t, files)
	r := newKAReader(kaOS, id)
	toks, err := r.file(filepath.Join(dir, "k.conf"), kaPos{})
	if err != nil {
		return nil, r, err
	}
	var lines, words []string
	for _, tk := range toks {
		switch tk.kind {
		case kaWord:
			n := &kaNode{Key: tk.text}
			words = append(words, n.words())
		case kaOpen:
			words = append(words, "{")
		case kaClose:
			words = append(words, "}")
		case kaEOL:
			if len(words) > 0 {
				lines = append(lines, strings.Join(words, " "))
			}
			words = nil
		}
	}
	return lines, r, nil
}

// TestKeepalivedConditionalLines: keepalived.conf(5), "Conditional
// configuration and configuration id".
func TestKeepalivedConditionalLines(t *testing.T) {
	prios := "@dir-a priority 150\n@dir-b priority 100\n"
	peers := "unicast_peer {\n    @^dir-a 192.0.2.11\n    @^dir-b 192.0.2.12\n}\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		id    string
		want  []string
	}{
		{"matching id dir-a", map[string]string{"k.conf": prios}, "dir-a", []string{"priority 150"}},
		{"matching id dir-b", map[string]string{"k.conf": prios}, "dir-b", []string{"priority 100"}},
		{"no id matches", map[string]string{"k.conf": prios}, "dir-c", nil},
		{"@^ on dir-a", map[string]string{"k.conf": peers}, "dir-a", []string{"unicast_peer {", "192.0.2.12", "}"}},
		{"@^ on another", map[string]string{"k.conf": peers}, "dir-c", []string{"unicast_peer {", "192.0.2.11", "192.0.2.12", "}"}},
		{"indented, with a comment", map[string]string{"k.conf": "    @dir-a\tpriority 150 # primary\n  @dir-b priority 100 # backup\n"}, "dir-a", []string{"priority 150"}},
		{"the id is compared whole", map[string]string{"k.conf": "@dir priority 1\n@dir-a-b priority 2\n@DIR-A priority 3\n"}, "dir-a", nil},
		{"nothing after the id", map[string]string{"k.conf": "@dir-a\n@^dir-b\nx\n"}, "dir-a", []string{"x"}},
		{"conditions in a row must all hold", map[string]string{"k.conf": "@dir-a @^dir-b x\n@dir-a @dir-b y\n"}, "dir-a", []string{"x"}},
		{"conditional include", map[string]string{
			"k.conf": "@dir-a include a.conf\n@dir-b include b.conf\n",
			"a.conf": "priority 150\n",
			"b.conf": "priority 100\n",
		}, "dir-b", []string{"priority 100"}},
		{"inside an included file", map[string]string{
			"k.conf":       "include inc/*.conf\n",
			"inc/vip.conf": "@^dir-a priority 100\n@dir-a priority 150\n",
		}, "dir-a", []string{"priority 150"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, r, err := kaLines(t, tc.files, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "lines", got, tc.want)
			equal(t, "config id used", r.usedID, true)
		})
	}
	got, r, err := kaLines(t, map[string]string{"k.conf": "\"@dir-b\" x\npriority 150\n"}, "dir-a")
	if err != nil || r.usedID {
		t.Errorf("a file without @ lines does not depend on the config id: %v", err)
	}
	equal(t, "only an unquoted @ is a condition", got, []string{"@dir-b x", "priority 150"})
}

// TestKeepalivedParameters: keepalived.conf(5), "Parameter substitution".
func TestKeepalivedParameters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		id    string
		want  []string
	}{
		{"defined and used", map[string]string{"k.conf": "$PRIO=150\npriority $PRIO\n"}, "", []string{"priority 150"}},
		{"braces", map[string]string{"k.conf": "$VIP=192.0.2.100\n${VIP}/24\nsorry_server ${VIP} 80\n"}, "",
			[]string{"192.0.2.100/24", "sorry_server 192.0.2.100 80"}},
		{"without braces, only before a blank , ) or the end", map[string]string{"k.conf": "$N=1\nx $N,2 ($N) $N\ny $N/24 $N.x\n"}, "",
			[]string{"x 1,2 (1) 1", "y $N/24 $N.x"}},
		{"a value is read when used", map[string]string{"k.conf": "$BASE=10.2.${SUB}\n$SUB=0\n${BASE}.100/32\n$SUB=10\n${BASE}.100/32\n"}, "",
			[]string{"10.2.0.100/32", "10.2.10.100/32"}},
		{"empty value, blanks around it", map[string]string{"k.conf": "$E=\n$F=  two words  \nx${E}y\nz $F\n"}, "", []string{"xy", "z two words"}},
		{"a comment is not part of the value", map[string]string{"k.conf": "$P=150 # primary\npriority $P\n"}, "", []string{"priority 150"}},
		{"no substitution in comments", map[string]string{"k.conf": "x # $UNDEFINED\n! ${ALSO}\n"}, "", []string{"x"}},
		{"quotes in the value", map[string]string{"k.conf": "$CMD=\"/usr/bin/pgrep -x nginx\"\nscript $CMD\n"}, "",
			[]string{`script "/usr/bin/pgrep -x nginx"`}},
		{"used in a quoted string", map[string]string{"k.conf": "$DIR=/etc/keepalived\nscript \"${DIR}/check $DIR $DIR\"\n"}, "",
			[]string{`script "/etc/keepalived/check /etc/keepalived $DIR"`}},
		{"used inside an @ line", map[string]string{"k.conf": "$HIGH=150\n$LOW=100\n@dir-a priority $HIGH\n@dir-b priority $LOW\n"}, "dir-b",
			[]string{"priority 100"}},
		{"defined behind a condition", map[string]string{"k.conf": "@dir-a $PRIO=150\n@dir-b $PRIO=100\npriority $PRIO\n"}, "dir-a",
			[]string{"priority 150"}},
		{"a value holding a condition, for dir-a", map[string]string{"k.conf": "$IF_A=@dir-a\n$IF_A priority 240\n"}, "dir-a", []string{"priority 240"}},
		{"a value holding a condition, for dir-b", map[string]string{"k.conf": "$IF_A=@dir-a\n$IF_A priority 240\n"}, "dir-b", nil},
		{"across included files", map[string]string{
			"k.conf":   "$VIP=192.0.2.100\ninclude inc.conf\nvip $LATE\n",
			"inc.conf": "${VIP}/24\n$LATE=1\n",
		}, "", []string{"192.0.2.100/24", "vip 1"}},
		{"an include named by a parameter", map[string]string{
			"k.conf":     "$SITE=paris\ninclude ${SITE}.conf\n",
			"paris.conf": "router_id paris\n",
		}, "", []string{"router_id paris"}},
		{"redefined", map[string]string{"k.conf": "$W=1\nweight $W\n$W=2\nweight $W\n"}, "", []string{"weight 1", "weight 2"}},
		{"predefined", map[string]string{"k.conf": "router_id ${_INSTANCE}\nx \"a${_HASH}b\" c${_BANG}d\n"}, "dir-a",
			[]string{"router_id dir-a", `x "a#b" c`}},
		{"a definition overrides a predefined one", map[string]string{"k.conf": "$_HASH=x\n${_HASH}\n"}, "", []string{"x"}},
		{"arguments only for predefined parameters", map[string]string{"k.conf": "$A=1\nx \"${A b}\"\n"}, "", []string{`x "${A b}"`}},
		{"multi-line", map[string]string{"k.conf": "$RS= \\\n  real_server ${IP} 80 { \\\n    weight 1 \\\n  }\n" +
			"$IP=192.0.2.21\n$RS\n$IP=192.0.2.22\n    $RS # again\n"}, "",
			[]string{"real_server 192.0.2.21 80 {", "weight 1", "}", "real_server 192.0.2.22 80 {", "weight 1", "}"}},
		{"multi-line, first line on the definition's", map[string]string{"k.conf": "$M=a \\\n  b\nx $M\n"}, "", []string{"x a", "b"}},
		{"multi-line ends at an empty line", map[string]string{"k.conf": "$M= \\\n  a \\\n\nb\n$M\n"}, "", []string{"b", "a"}},
		{"multi-line, comments and blank lines inside", map[string]string{"k.conf": "$M= \\\n  # one \\\n  a \\\n   \\\n  \t\n  b # two\n$M\n"}, "", []string{"a", "b"}},
		{"multi-line within multi-line, with conditions and definitions", map[string]string{"k.conf": "$INNER= \\\n  a $V \\\n  b\n" +
			"$OUTER= \\\n  @dir-a x \\\n  $V=1 \\\n  $INNER \\\n  $V=2 \\\n  $INNER \\\n  y\n$OUTER\n"}, "dir-a",
			[]string{"x", "a 1", "b", "a 2", "b", "y"}},
		{"multi-line behind a condition that holds", map[string]string{"k.conf": "@dir-a $M= \\\n  x \\\n  y\n$M\n"}, "dir-a", []string{"x", "y"}},
		{"multi-line for another id", map[string]string{"k.conf": "$OUTER= \\\n  @dir-a x \\\n  y\n$OUTER\n"}, "dir-b", []string{"y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.id
			if id == "" {
				id = kaTestID
			}
			got, _, err := kaLines(t, tc.files, id)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "lines", got, tc.want)
		})
	}
}

// TestKeepalivedParameterInScript: keepalived keeps an undefined $NAME as
// it is; inside quotes, a script's shell variable, the importer does too,
// and says so.
func TestKeepalivedParameterInScript(t *testing.T) {
	got, r, err := kaLines(t, map[string]string{"k.conf": "$X=1\nnotify \"/bin/sh -c 'logger $HOSTNAME is ${STATE}'\" $X\n"}, kaTestID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "lines", got, []string{`notify "/bin/sh -c 'logger $HOSTNAME is ${STATE}'" 1`})
	equal(t, "notes", len(r.notes), 2)
	for _, n := range r.notes {
		if n.Line != 2 || n.ChangesBehaviour || !strings.Contains(n.Text, "kept as written") {
			t.Errorf("note %s", n)
		}
	}
}

// TestImportKeepalivedSharedConfig: one file for a pair, imported for
// each director, and the header that says for which.
func TestImportKeepalivedSharedConfig(t *testing.T) {
	conf := "$VIP=192.0.2.100\n@dir-a $PRIO=150\n@dir-b $PRIO=100\n" +
		strings.NewReplacer("192.0.2.100", "${VIP}", "    interface eth0\n", "    interface eth0\n    priority $PRIO\n").Replace(kaInstance)
	dir := writeConf(t, map[string]string{"k.conf": conf})
	for id, prio := range map[string]uint8{"dir-a": 150, "dir-b": 100} {
		out, notes, err := Import(filepath.Join(dir, "k.conf"), id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		cfg, diags := lvsdconf.Parse(out, "imported.hcl", everyHost{})
		if cfg == nil || len(diags) > 0 {
			t.Fatalf("%s: %v\n%s", id, diags, out)
		}
		equal(t, id+" priority", cfg.Instances[0].Priority, prio)
		equal(t, id+" VIPs", prefixStrings(cfg.Instances[0].VIPs), []string{"192.0.2.100/24"})
		equal(t, id+" notes", len(notes), 0)
		want := fmt.Sprintf("# Imported for keepalived config id %q (lvsd import-keepalived --config-id):\n", id)
		if !strings.HasPrefix(string(out), want) {
			t.Errorf("%s: the output does not start with %q:\n%s", id, want, out)
		}
	}
	if _, _, err := Import(filepath.Join(dir, "k.conf"), "dir-c"); err == nil ||
		!strings.Contains(err.Error(), `k.conf:6: $PRIO is not defined for config id "dir-c"`) {
		t.Errorf("dir-c: %v", err)
	}
}
