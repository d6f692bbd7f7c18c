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
	console := runGuest(t, "^TestBenchRemoval$")
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
