//go:build vmguest

package ipvsguest

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/test/lab"
)

// TestBenchColdApply loads 1,000 services × 10 destinations into an empty
// table, once through the reconciler and once through "ipvsadm -R", and
// prints the median wall times on a BENCH line the host test re-prints.
// Both loads must end in the same table. It flushes between runs, which
// only a benchmark may do. Runs only with LVSD_IPVS_BENCH=1.
func TestBenchColdApply(t *testing.T) {
	if os.Getenv("LVSD_IPVS_BENCH") != "1" {
		t.Skip("benchmark; run by go test -tags bench ./test/vm/ -run Bench")
	}
	const services, dests, rounds = 1000, 10, 3
	desired := benchTable(services, dests)
	rules := "/tmp/ipvsadm.rules"
	if err := os.WriteFile(rules, []byte(ipvsadmRules(desired)), 0o644); err != nil {
		t.Fatal(err)
	}
	k := openKernel(t, "")
	flush := func() { lab.Ipvsadm(t, "", "-C") }
	lvsd := func() time.Duration {
		start := time.Now()
		ops, err := ipvs.NewReconciler(k).Apply(desired)
		d := time.Since(start)
		if err != nil || len(ops) != services*(1+dests) {
			t.Fatalf("cold apply: %d ops, %v", len(ops), err)
		}
		return d
	}
	stock := func() time.Duration {
		f, err := os.Open(rules)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := exec.Command("ipvsadm", "-R")
		cmd.Stdin = f
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			t.Fatalf("ipvsadm -R: %v\n%s", err, out)
		}
		return d
	}

	flush()
	var tl, ta, tw []time.Duration
	for i := range rounds {
		// Alternate who goes first, so neither always meets a warm cache.
		order := []string{"lvsd", "ipvsadm"}
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, who := range order {
			if who == "lvsd" {
				tl = append(tl, lvsd())
				// A restart over the full table: read and compare only.
				start := time.Now()
				if ops, err := ipvs.NewReconciler(k).Apply(desired); err != nil || len(ops) != 0 {
					t.Fatalf("no-op apply: %d ops, %v", len(ops), err)
				}
				tw = append(tw, time.Since(start))
			} else {
				ta = append(ta, stock())
			}
			mustConverge(t, k, desired) // both loaders made the same table
			flush()
		}
		t.Logf("round %d: lvsd %v, ipvsadm -R %v, no-op apply %v", i+1, tl[i], ta[i], tw[i])
	}
	ml, ma, mw := median(tl), median(ta), median(tw)
	fmt.Printf("BENCH ipvs-cold-apply services=%d dests=%d lvsd=%.1fms ipvsadm=%.1fms ratio=%.2f\n",
		services, dests, ms(ml), ms(ma), float64(ml)/float64(ma))
	fmt.Printf("BENCH ipvs-noop-apply services=%d dests=%d lvsd=%.1fms ops=0\n", services, dests, ms(mw))
}

// benchTable spreads services over 250 addresses × 4 ports of
// 192.0.2.0/24; each has dests NAT destinations in 198.51.100.0/24.
func benchTable(services, dests int) []ipvs.Entry {
	ports := []uint16{80, 443, 8080, 8443}
	out := make([]ipvs.Entry, services)
	for i := range out {
		s := ipvs.Service{Address: netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i/len(ports))}), Port: ports[i%len(ports)], Protocol: ipvs.TCP, Scheduler: "wlc"}
		e := ipvs.Entry{Service: s}
		for j := range dests {
			e.Destinations = append(e.Destinations, ipvs.Destination{
				Address: netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + j)}), Port: 8080, Weight: 1 + j%5, Forwarding: ipvs.NAT,
			})
		}
		out[i] = e
	}
	return out
}

// ipvsadmRules renders the table as ipvsadm -R input.
func ipvsadmRules(entries []ipvs.Entry) string {
	var b strings.Builder
	for _, e := range entries {
		vip := netip.AddrPortFrom(e.Service.Address, e.Service.Port)
		fmt.Fprintf(&b, "-A -t %s -s %s\n", vip, e.Service.Scheduler)
		for _, d := range e.Destinations {
			fmt.Fprintf(&b, "-a -t %s -r %s -m -w %d\n", vip, d, d.Weight)
		}
	}
	return b.String()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
