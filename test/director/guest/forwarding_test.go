//go:build vmguest

package guest

import (
	"fmt"
	"github.com/lvsd/lvsd/test/lvsdtest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// Check timing of the director tests: a stopped server must leave the
// table within fall × interval + timeout (plus the reconcile, which is
// immediate, and the polling).
const (
	checkInterval = 500 * time.Millisecond
	checkTimeout  = 200 * time.Millisecond
	checkRise     = 2
	checkFall     = 2
)

func directorHCL(vip netip.Addr, fwd string, rsPort int, rs []netip.Addr, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 255
  virtual_ips       = ["%s/24"]
}
virtual_server "web" {
  address    = "%s:80"
  scheduler  = "wrr"
  forwarding = %q
  check "http" {
    path     = "/healthz"
    interval = %q
    timeout  = %q
    rise     = %d
    fall     = %d
  }
%s
`, vip, vip, fwd, checkInterval, checkTimeout, checkRise, checkFall, extra)
	for i, ip := range rs {
		fmt.Fprintf(&b, "  real_server \"%s:%d\" {\n    weight = %d\n  }\n", ip, rsPort, []int{3, 1}[i])
	}
	b.WriteString("}\n")
	return b.String()
}

// TestForwarding: for NAT, DR and TUN, lvsd programs the table ipvsadm
// shows, and requests from the client are answered by both real servers
// in the 3:1 wrr ratio.
func TestForwarding(t *testing.T) {
	for _, c := range []struct {
		name, fwd, ipvsadmFwd string
		port                  int
		site                  func(*testing.T) *site
	}{
		{"NAT", "nat", "Masq", 8080, natSite},
		{"DR", "dr", "Route", 80, drSite},
		{"TUN", "tun", "Tunnel", 80, tunSite},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.site(t)
			for i, h := range s.rs {
				serveHTTP(t, h, netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(c.port)), fmt.Sprintf("rs%d", i+1))
			}
			d := lvsdtest.Start(t, s.director, directorHCL(s.vip, c.fwd, c.port, s.rsIP, ""))
			want := []string{
				fmt.Sprintf("TCP %s:80 wrr", s.vip),
				fmt.Sprintf("-> %s:%d %s 3", s.rsIP[0], c.port, c.ipvsadmFwd),
				fmt.Sprintf("-> %s:%d %s 1", s.rsIP[1], c.port, c.ipvsadmFwd),
			}
			lvsdtest.WaitFor(t, 10*time.Second, "both real servers in the table", func() bool {
				return slices.Equal(ipvsTable(t, s.director), want)
			})
			lvsdtest.WaitFor(t, 5*time.Second, "master", func() bool { return d.State() == "MASTER" })

			counts := map[string]int{}
			const n = 200
			for range n {
				body, err := get(s.client, netip.AddrPortFrom(s.vip, 80), "/")
				if err != nil {
					t.Fatalf("request through the VIP: %v", err)
				}
				counts[body]++
			}
			t.Logf("%s: %d requests: %v; table %q", c.name, n, counts, want)
			// A real server set up as the test did passes lvsd doctor.
			if c.fwd != "nat" {
				for _, h := range s.rs {
					if out, err := combined(h, h.Command(t.Context(), lvsdtest.MustBinary(t), "doctor", "--real-server", s.vip.String())); err != nil {
						t.Errorf("lvsd doctor --real-server %s on %s: %v\n%s", s.vip, h.Name(), err, out)
					}
				}
			}
			// wrr is deterministic: 3:1 to the request, give or take the
			// cycle in progress.
			if r1 := counts["rs1"]; r1 < n*3/4-4 || r1 > n*3/4+4 || counts["rs1"]+counts["rs2"] != n {
				t.Errorf("rs1 answered %d of %d, want %d ± 4 (weights 3:1)", r1, n, n*3/4)
			}
		})
	}
}

// TestSchedulers: every scheduler of the contract is accepted by the
// kernel through lvsd.
func TestSchedulers(t *testing.T) {
	s := drSite(t)
	schedulers := []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}
	var b strings.Builder
	b.WriteString(`vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 255
  virtual_ips       = ["192.0.2.100/24"]
}
`)
	var want []string
	for i, sched := range schedulers {
		port := 8001 + i
		fmt.Fprintf(&b, "virtual_server %q {\n  address = \"192.0.2.100:%d\"\n  scheduler = %q\n  forwarding = \"dr\"\n  real_server \"192.0.2.21:%d\" {}\n}\n", sched, port, sched, port)
		want = append(want, fmt.Sprintf("TCP 192.0.2.100:%d %s", port, sched), fmt.Sprintf("-> 192.0.2.21:%d Route 1", port))
	}
	lvsdtest.Start(t, s.director, b.String())
	slices.Sort(want)
	lvsdtest.WaitFor(t, 10*time.Second, "a service per scheduler", func() bool {
		got := ipvsTable(t, s.director)
		slices.Sort(got)
		return slices.Equal(got, want)
	})
}

// TestFWMark: a firewall-mark service carries marked traffic.
func TestFWMark(t *testing.T) {
	s := drSite(t)
	for i, h := range s.rs {
		serveHTTP(t, h, netip.MustParseAddrPort("0.0.0.0:80"), fmt.Sprintf("rs%d", i+1))
	}
	nft := s.director.Command(t.Context(), "/usr/sbin/nft", "-f", "-")
	nft.Stdin = strings.NewReader(`table ip lvsd_test {
  chain pre {
    type filter hook prerouting priority mangle;
    ip daddr 192.0.2.100 tcp dport 80 meta mark set 7
  }
}
`)
	if out, err := combined(s.director, nft); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	lvsdtest.Start(t, s.director, `
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 255
  virtual_ips       = ["192.0.2.100/24"]
}
virtual_server "marked" {
  fwmark     = 7
  scheduler  = "rr"
  forwarding = "dr"
  check "tcp" {
    port     = 80
    interval = "500ms"
    timeout  = "200ms"
    rise     = 1
  }
  real_server "192.0.2.21" {}
  real_server "192.0.2.22" {}
}
`)
	want := []string{"FWM 7 rr", "-> 192.0.2.21:0 Route 1", "-> 192.0.2.22:0 Route 1"}
	lvsdtest.WaitFor(t, 10*time.Second, "the fwmark service with both servers", func() bool {
		return slices.Equal(ipvsTable(t, s.director), want)
	})
	counts := map[string]int{}
	for range 20 {
		body, err := get(s.client, netip.MustParseAddrPort("192.0.2.100:80"), "/")
		if err != nil {
			t.Fatalf("request to the marked VIP: %v", err)
		}
		counts[body]++
	}
	if counts["rs1"] != 10 || counts["rs2"] != 10 {
		t.Errorf("rr over the fwmark service: %v, want 10 and 10", counts)
	}
}

// TestServerFailureAndRestart: a stopped real server leaves the table in
// time and returns after rise successes; restarting lvsd keeps the table
// and an established connection through the VIP.
func TestServerFailureAndRestart(t *testing.T) {
	s := natSite(t)
	stops := []func(){}
	for i, h := range s.rs {
		stops = append(stops, serveHTTP(t, h, netip.MustParseAddrPort("0.0.0.0:8080"), fmt.Sprintf("rs%d", i+1)))
	}
	d := lvsdtest.Start(t, s.director, directorHCL(s.vip, "nat", 8080, s.rsIP, ""))
	rs2 := fmt.Sprintf("-> %s:8080 Masq 1", s.rsIP[1])
	lvsdtest.WaitFor(t, 10*time.Second, "both servers in", func() bool { return len(ipvsTable(t, s.director)) == 3 })

	stopped := time.Now()
	stops[1]()
	bound := checkFall*checkInterval + checkTimeout
	lvsdtest.WaitFor(t, 3*bound, "rs2 leaves the table", func() bool { return !slices.Contains(ipvsTable(t, s.director), rs2) })
	took := time.Since(stopped)
	t.Logf("stopped rs2 left the table after %s (bound fall×interval+timeout = %s)", took, bound)
	if took > bound+300*time.Millisecond {
		t.Errorf("rs2 left after %s, bound %s + 300ms slack", took, bound)
	}

	serveHTTP(t, s.rs[1], netip.MustParseAddrPort("0.0.0.0:8080"), "rs2")
	back := time.Now()
	lvsdtest.WaitFor(t, 5*time.Second, "rs2 returns", func() bool { return slices.Contains(ipvsTable(t, s.director), rs2) })
	t.Logf("rs2 returned after %s (rise %d × interval %s)", time.Since(back), checkRise, checkInterval)

	// An established connection through the VIP, then lvsd killed and
	// restarted: the table must never be flushed, the stream never cut.
	st := openStream(t, s.client, netip.AddrPortFrom(s.vip, 80))
	lvsdtest.WaitFor(t, 3*time.Second, "the stream flows", func() bool { n, _, _, _ := st.snapshot(); return n > 5 })
	before := ipvsTable(t, s.director)
	d.Kill()
	if got := ipvsTable(t, s.director); !slices.Equal(got, before) {
		t.Errorf("table after SIGKILL %q, want unchanged %q", got, before)
	}
	d.Restart()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if got := ipvsTable(t, s.director); !slices.Equal(got, before) {
			t.Fatalf("table changed across the restart: %q, was %q", got, before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	lines, longest, missing, err := st.snapshot()
	t.Logf("stream across the restart: %d lines, longest gap %s, %d lost or duplicated", lines, longest, missing)
	if err != nil || missing != 0 {
		t.Errorf("stream broken across the restart: %v, %d lines lost or duplicated", err, missing)
	}
}
