//go:build vmguest

package guest

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
)

// pairSite: a client, two directors and two DR real servers on one
// segment.
type pairSite struct {
	*site
	a, b         *lab.Host
	aLink, bLink *lab.Link
	stops        []func() // stop each real server's HTTP
}

func drPair(t *testing.T) *pairSite {
	l := lab.New(t)
	lan := l.Network("lan")
	s := &pairSite{site: &site{lab: l, client: l.Host("client"), vip: netip.MustParseAddr("192.0.2.100")}}
	s.client.Connect(lan, mustPrefix("192.0.2.50/24"))
	s.a, s.b = l.Host("dir-a"), l.Host("dir-b")
	s.aLink = s.a.Connect(lan, mustPrefix("192.0.2.11/24"))
	s.bLink = s.b.Connect(lan, mustPrefix("192.0.2.12/24"))
	for i, ip := range []string{"192.0.2.21", "192.0.2.22"} {
		h := l.Host([]string{"rs1", "rs2"}[i])
		h.Connect(lan, netip.PrefixFrom(netip.MustParseAddr(ip), 24))
		realServerVIP(t, h, "lo", s.vip)
		s.stops = append(s.stops, serveHTTP(t, h, netip.MustParseAddrPort("0.0.0.0:80"), fmt.Sprintf("rs%d", i+1)))
		s.rs, s.rsIP = append(s.rs, h), append(s.rsIP, netip.MustParseAddr(ip))
	}
	return s
}

func pairHCL(prio int, withSync bool) string {
	cs := ""
	if withSync {
		cs = `
connection_sync {
  interface = "eth0"
  instance  = "VI_1"
}
`
	}
	return fmt.Sprintf(`
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  advert_interval   = "500ms"
  virtual_ips       = ["192.0.2.100/24"]
}
virtual_server "web" {
  address    = "192.0.2.100:80"
  scheduler  = "rr"
  forwarding = "dr"
  check "tcp" {
    interval = "1s"
    timeout  = "500ms"
    rise     = 1
  }
  real_server "192.0.2.21:80" {}
  real_server "192.0.2.22:80" {}
}
%s`, prio, cs)
}

const streams = 24

// TestSyncKeepsSessions: with connection_sync, the backup already knows
// every connection when the master dies, and every stream carries on;
// without it, the same failover breaks them (the test can fail).
func TestSyncKeepsSessions(t *testing.T) {
	for _, withSync := range []bool{true, false} {
		name := map[bool]string{true: "with-sync", false: "without-sync"}[withSync]
		t.Run(name, func(t *testing.T) {
			s := drPair(t)
			a := lvsdtest.Start(t, s.a, pairHCL(150, withSync))
			b := lvsdtest.Start(t, s.b, pairHCL(100, withSync))
			lvsdtest.WaitFor(t, 10*time.Second, "dir-a master, dir-b backup", func() bool { return a.State() == "MASTER" && b.State() == "BACKUP" })
			t.Cleanup(func() {
				if t.Failed() {
					st, _ := b.Status()
					t.Logf("dir-b status: %v", st)
				}
			})
			lvsdtest.WaitFor(t, 10*time.Second, "both real servers on both directors", func() bool {
				return len(ipvsTable(t, s.a)) == 3 && len(ipvsTable(t, s.b)) == 3
			})

			var ss []*stream
			for range streams {
				ss = append(ss, openStream(t, s.client, netip.AddrPortFrom(s.vip, 80)))
			}
			lvsdtest.WaitFor(t, 5*time.Second, "every stream flows", func() bool {
				for _, st := range ss {
					if n, _, _, err := st.snapshot(); n < 5 || err != nil {
						return false
					}
				}
				return true
			})
			masterConns := countConns(t, s.a)
			if withSync {
				// The kernel syncs a connection after its third packet:
				// the backup's table fills within a second or two.
				lvsdtest.WaitFor(t, 10*time.Second, "the backup's kernel knows every connection", func() bool { return countConns(t, s.b) >= streams })
				// lvsd's observer reads the same datagrams as the kernel's
				// backup daemon, from a goroutine: it may lag a little.
				var observed uint64
				lvsdtest.WaitFor(t, 5*time.Second, "the backup's observer sees every connection", func() bool {
					observed = observedConns(t, b)
					return observed >= uint64(masterConns)
				})
				t.Logf("master's kernel: %d connections; backup's kernel: %d; backup's lvsd observed %d connection entries from the master",
					masterConns, countConns(t, s.b), observed)
				// The kernel sends a connection once per state change it
				// syncs (a handful over a stream's life): every stream at
				// least once, none more than three times so far.
				if observed < uint64(masterConns) || observed > 3*uint64(masterConns) {
					t.Errorf("the backup's observer saw %d connection entries for the master's %d connections, want %d..%d", observed, masterConns, masterConns, 3*masterConns)
				}
			}

			// The master dies: lvsd killed, and its link cut so that its
			// kernel no longer answers for the VIP.
			died := time.Now()
			a.Kill()
			s.aLink.Cut()
			lvsdtest.WaitFor(t, 5*time.Second, "dir-b master", func() bool { return b.State() == "MASTER" })
			t.Logf("dir-b master %s after the master died", time.Since(died).Round(time.Millisecond))
			time.Sleep(4 * time.Second) // streams must flow through dir-b now

			alive, broken := 0, 0
			var stall time.Duration
			for _, st := range ss {
				lines, longest, missing, err := st.snapshot()
				stall = max(stall, longest)
				if err == nil && missing == 0 && time.Since(st.lastLine()) < time.Second && lines > 0 {
					alive++
				} else {
					broken++
				}
			}
			t.Logf("%s: %d of %d streams alive, %d broken; longest stall %s", name, alive, streams, broken, stall.Round(time.Millisecond))
			if withSync && alive != streams {
				t.Errorf("with connection sync, %d of %d streams broke across the failover", broken, streams)
			}
			if !withSync && broken == 0 {
				t.Errorf("without connection sync every stream survived: the test would not notice a broken sync")
			}
		})
	}
}

func countConns(t *testing.T, h *lab.Host) int {
	t.Helper()
	cs, err := ipvs.Connections("/run/netns/" + h.Netns())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cs {
		if c.State == "ESTABLISHED" {
			n++
		}
	}
	return n
}

// observedConns is what lvsd's sync observer saw from the master.
func observedConns(t *testing.T, d *lvsdtest.Daemon) uint64 {
	s, err := d.Status()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	if s.Sync != nil && s.Sync.Observed != nil {
		for _, p := range s.Sync.Observed.Peers {
			n += p.Connections
		}
	}
	return n
}
