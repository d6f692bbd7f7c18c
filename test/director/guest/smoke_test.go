//go:build vmguest

package guest

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
)

// TestLabInVM: the namespace lab and lvsd both work inside the VM: two
// hosts reach each other, and lvsd elects itself master and holds its VIP.
func TestLabInVM(t *testing.T) {
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		t.Fatalf("the guest kernel has no IPVS: %v", err)
	}
	l := lab.New(t)
	nw := l.Network("lan")
	dir, rs := l.Host("dir"), l.Host("rs1")
	dir.Connect(nw, mustPrefix("192.0.2.11/24"))
	rs.Connect(nw, mustPrefix("192.0.2.21/24"))
	serveHTTP(t, rs, netip.MustParseAddrPort("192.0.2.21:80"), "rs1")
	if body, err := get(dir, netip.MustParseAddrPort("192.0.2.21:80"), "/"); err != nil || body != "rs1" {
		t.Fatalf("dir → rs1: %q, %v", body, err)
	}
	d := lvsdtest.Start(t, dir, `
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 255
  virtual_ips       = ["192.0.2.100/24"]
}
`)
	lvsdtest.WaitFor(t, 5*time.Second, "lvsd master", func() bool { return d.State() == "MASTER" })
}
