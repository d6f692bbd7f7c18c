//go:build bench

package vm_test

import (
	"strconv"

	"context"
	"fmt"
	"github.com/lvsd/lvsd/test/benchtab"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/vm"
)

// benchLineRE finds the guest's result lines, e.g.
// "BENCH ipvs-cold-apply services=1000 dests=10 lvsd=812.3ms ipvsadm=640.1ms ratio=1.27".
var benchLineRE = regexp.MustCompile(`(?m)^BENCH ipvs-\S+ .*$`)

// TestBenchIPVSColdApply boots the IPVS kernel and runs the guest's
// cold-apply benchmark (1,000 services × 10 destinations by the reconciler
// against ipvsadm -R), then re-prints its BENCH lines:
//
//	go test -tags bench ./test/vm/ -run Bench -v
func TestBenchIPVSColdApply(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the VM tier must run as root")
	}
	if err := vm.CheckHost(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k, err := vm.Prepare(ctx)
	if err != nil {
		t.Fatalf("prepare kernel: %v", err)
	}
	bin, err := vm.BuildStatic(ctx, "./test/vm/ipvsguest", "vmguest")
	if err != nil {
		t.Fatalf("build ipvs guest test: %v", err)
	}
	res := vm.RunGuestTests(t, vm.Spec{
		Kernel:       k,
		HostPrograms: []string{"/usr/sbin/ipvsadm"},
		Env:          []string{"LVSD_IPVS_BENCH=1"},
		MemoryMB:     1024,
		Timeout:      15 * time.Minute,
	}, vm.GuestTests{Binary: bin, Path: "/usr/local/bin/ipvsguest.test", Run: "^TestBenchColdApply$", Want: []string{"TestBenchColdApply"}})
	lines := benchLineRE.FindAllString(res.Console, -1)
	if len(lines) == 0 {
		t.Fatal("guest printed no BENCH line")
	}
	for _, l := range lines {
		fmt.Println(l)
	}
	cold := coldApplyRE.FindStringSubmatch(res.Console)
	if cold == nil {
		t.Fatal("guest printed no cold-apply figure")
	}
	ratio, _ := strconv.ParseFloat(cold[5], 64)
	what := fmt.Sprintf("cold apply of %s services × %s real servers, in the VM (TCG)", cold[1], cold[2])
	if err := benchtab.Add(benchtab.Row{Area: "IPVS", Measure: what, Lvsd: cold[3] + " ms", Reference: "ipvsadm -R, same table", RefValue: cold[4] + " ms", Ratio: ratio}); err != nil {
		t.Error(err)
	}
}

var coldApplyRE = regexp.MustCompile(`BENCH ipvs-cold-apply services=(\d+) dests=(\d+) lvsd=([\d.]+)ms ipvsadm=([\d.]+)ms ratio=([\d.]+)`)
