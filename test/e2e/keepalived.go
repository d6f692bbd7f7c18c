//go:build lab || bench

package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
)

// vrrpSettings are the settings both implementations are given, so that a
// pair of lvsd and keepalived is configured identically.
type vrrpSettings struct {
	version  int
	interval time.Duration
	authPass string       // v2 only
	source   netip.Addr   // unicast: this router's address
	peers    []netip.Addr // unicast: the other router
	preempt  bool
}

func (s vrrpSettings) lvsdHCL(prio int) string {
	var extra []string
	extra = append(extra, fmt.Sprintf("  version = %d", s.version))
	if s.authPass != "" {
		extra = append(extra, fmt.Sprintf("  auth_pass = %q", s.authPass))
	}
	if len(s.peers) > 0 {
		var ps []string
		for _, p := range s.peers {
			ps = append(ps, fmt.Sprintf("%q", p))
		}
		extra = append(extra, fmt.Sprintf("  source_ip = %q\n  unicast_peers = [%s]", s.source, strings.Join(ps, ", ")))
	}
	if !s.preempt {
		extra = append(extra, "  preempt = false")
	}
	return fmt.Sprintf(`
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  advert_interval   = %q
  virtual_ips       = ["192.0.2.100/24"]
  garp {
    delay  = "2s"
    repeat = 2
  }
%s
}
`, prio, s.interval, strings.Join(extra, "\n"))
}

func (s vrrpSettings) keepalivedConf(name string, prio int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n  router_id %s\n  vrrp_version %d\n  vrrp_garp_master_delay 2\n  vrrp_garp_master_repeat 2\n}\n", name, s.version)
	fmt.Fprintf(&b, "vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority %d\n", prio)
	fmt.Fprintf(&b, "  advert_int %g\n", s.interval.Seconds())
	if !s.preempt {
		b.WriteString("  nopreempt\n")
	}
	fmt.Fprintf(&b, "  virtual_ipaddress {\n    192.0.2.100/24\n  }\n")
	if s.authPass != "" {
		fmt.Fprintf(&b, "  authentication {\n    auth_type PASS\n    auth_pass %s\n  }\n", s.authPass)
	}
	if len(s.peers) > 0 {
		fmt.Fprintf(&b, "  unicast_src_ip %s\n  unicast_peer {\n", s.source)
		for _, p := range s.peers {
			fmt.Fprintf(&b, "    %s\n", p)
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// startKeepalived runs Debian's keepalived, VRRP only, in h.
func startKeepalived(t testing.TB, h *lab.Host, conf string) *lvsdtest.Process {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return lvsdtest.StartProcess(t, h, "keepalived on "+h.Name(), "/usr/sbin/keepalived",
		"--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp",
		"--use-file", path, "--pid", filepath.Join(dir, "keepalived.pid"), "--vrrp_pid", filepath.Join(dir, "vrrp.pid"))
}
