//go:build vmguest

package guest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/test/lvsdtest"
)

// TestBenchRemoval measures, on the real kernel, how long a real server
// whose HTTP server stops stays in the IPVS table, against the bound
// fall × interval + timeout, and how long it takes to return. Run by
// make bench (the host test passes -test.run Bench).
func TestBenchRemoval(t *testing.T) {
	const (
		interval = time.Second
		timeout  = 500 * time.Millisecond
		rise     = 2
		fall     = 3
		drills   = 10
	)
	s := natSite(t)
	serveHTTP(t, s.rs[0], netip.MustParseAddrPort("0.0.0.0:8080"), "rs1")
	stop := serveHTTP(t, s.rs[1], netip.MustParseAddrPort("0.0.0.0:8080"), "rs2")
	lvsdtest.Start(t, s.director, fmt.Sprintf(`
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 255
  virtual_ips       = ["203.0.113.100/24"]
}
virtual_server "web" {
  address    = "203.0.113.100:80"
  forwarding = "nat"
  check "http" {
    path     = "/healthz"
    interval = %q
    timeout  = %q
    rise     = %d
    fall     = %d
  }
  real_server "198.51.100.21:8080" {}
  real_server "198.51.100.22:8080" {}
}
`, interval, timeout, rise, fall))
	k, err := ipvs.Open("/run/netns/" + s.director.Netns())
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	rs2 := netip.MustParseAddrPort("198.51.100.22:8080")
	present := func() bool {
		entries, err := k.Services()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			for _, d := range e.Destinations {
				if d.Key() == rs2 {
					return true
				}
			}
		}
		return false
	}
	lvsdtest.WaitFor(t, 10*time.Second, "rs2 in the table", present)
	var gone, back []time.Duration
	for range drills {
		time.Sleep(time.Duration(rand.Int64N(int64(interval)))) // any moment of the check cycle
		t0 := time.Now()
		stop()
		for present() {
			time.Sleep(20 * time.Millisecond) // polling must not starve the guest
		}
		gone = append(gone, time.Since(t0))
		t1 := time.Now()
		stop = serveHTTP(t, s.rs[1], rs2, "rs2")
		for !present() {
			time.Sleep(20 * time.Millisecond)
		}
		back = append(back, time.Since(t1))
	}
	slices.Sort(gone)
	slices.Sort(back)
	bound := fall*interval + timeout
	fmt.Printf("BENCH removal drills=%d median=%.0fms worst=%.0fms bound=%.0fms return_median=%.0fms rise_bound=%.0fms\n",
		drills, ms(gone[drills/2]), ms(gone[drills-1]), ms(bound), ms(back[drills/2]), ms(rise*interval))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
