//go:build bench

package director

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/benchtab"
)

var removalRE = regexp.MustCompile(`BENCH removal drills=(\d+) median=(\d+)ms worst=(\d+)ms bound=(\d+)ms return_median=(\d+)ms rise_bound=(\d+)ms`)

// TestBenchRemoval reports how long a failed real server stays in the real
// kernel's IPVS table, against fall × interval + timeout.
func TestBenchRemoval(t *testing.T) {
	console := runGuest(t, "^TestBenchRemoval$", "")
	m := removalRE.FindStringSubmatch(console)
	if m == nil {
		t.Fatal("the guest printed no removal figure")
	}
	fmt.Println(m[0])
	v := func(i int) time.Duration { n, _ := strconv.Atoi(m[i]); return time.Duration(n) * time.Millisecond }
	what := fmt.Sprintf("real server failure to removal from the kernel's table, median of %s, in the VM", m[1])
	err := benchtab.Add(
		benchtab.Row{Area: "health → IPVS", Measure: what, Lvsd: benchtab.Ms(v(2)), Reference: "fall×interval+timeout", RefValue: benchtab.Ms(v(4)), Ratio: benchtab.Ratio(v(2), v(4))},
		benchtab.Row{Area: "health → IPVS", Measure: "worst of the same drills", Lvsd: benchtab.Ms(v(3)), Reference: "fall×interval+timeout", RefValue: benchtab.Ms(v(4)), Ratio: benchtab.Ratio(v(3), v(4))},
		benchtab.Row{Area: "health → IPVS", Measure: "recovered server back in the table, median", Lvsd: benchtab.Ms(v(5)), Reference: "rise×interval", RefValue: benchtab.Ms(v(6)), Ratio: benchtab.Ratio(v(5), v(6))},
	)
	if err != nil {
		t.Error(err)
	}
}

var checkCPURE = regexp.MustCompile(`BENCH checkcpu servers=(\d+) lvsd_cpu=([\d.]+)% lvsd_rss=([\d.]+)MiB lvsd_checks=(\d+)/s keepalived_cpu=([\d.]+)% keepalived_rss=([\d.]+)MiB keepalived_checks=(\d+)/s`)

// TestBenchCheckCPU holds lvsd's HTTP checker against keepalived's on the
// same checks, kernel and server, in the VM (keepalived's checker needs
// IPVS, which this host lacks).
func TestBenchCheckCPU(t *testing.T) {
	console := runGuest(t, "^TestBenchCheckCPU$", "")
	m := checkCPURE.FindStringSubmatch(console)
	if m == nil {
		t.Fatal("the guest printed no checker figure")
	}
	fmt.Println(m[0])
	f := func(i int) float64 { v, _ := strconv.ParseFloat(m[i], 64); return v }
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	what := fmt.Sprintf("HTTP checks of %s servers at 1s (%s and %s answered/s), in the VM", m[1], m[4], m[7])
	err := benchtab.Add(
		benchtab.Row{Area: "health checks", Measure: what + ": CPU (% of a core)", Lvsd: m[2] + "%", Reference: "keepalived checker", RefValue: m[5] + "%", Ratio: ratio(f(2), f(5))},
		benchtab.Row{Area: "health checks", Measure: what + ": peak RSS", Lvsd: m[3] + " MiB", Reference: "keepalived checker", RefValue: m[6] + " MiB", Ratio: ratio(f(3), f(6))},
	)
	if err != nil {
		t.Error(err)
	}
}
