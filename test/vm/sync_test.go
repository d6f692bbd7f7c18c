//go:build vm

package vm_test

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/vm"
)

// syncGuestOnce builds the guest tests of package sync (test/vm/syncguest).
var syncGuestOnce = sync.OnceValues(func() (string, error) {
	return vm.BuildStatic(context.Background(), "./test/vm/syncguest", "vmguest")
})

// syncGuestTests must each report PASS: a green run with fewer tests (a
// rename, a skip) would prove less than it claims.
var syncGuestTests = []string{
	"TestDaemonParameters", "TestDaemonErrors", "TestStopRightAfterStart", "TestFollowerInKernel", "TestObserverCountsKernelConnections",
	"TestObserverCountsKernelConnections/IPv4_group_224.0.0.81", "TestObserverCountsKernelConnections/IPv6_group_ff32:20:2001:db8::81",
	"TestObserverCountsKernelConnections/IPv4_group,_sync_ports_4",
}

func syncGuest(t *testing.T) (*vm.Kernel, string) {
	t.Helper()
	k, _ := setup(t)
	bin, err := syncGuestOnce()
	if err != nil {
		t.Fatalf("build sync guest test: %v", err)
	}
	return k, bin
}

// TestSyncInVM runs package sync against the real kernel: master and
// backup daemons for every parameter read back through GET_DAEMON and
// ipvsadm, the kernel's errors, a Follower through a forced sequence of
// VRRP states and reloads, and an Observer counting the connections a
// master syncs to a backup in another namespace.
func TestSyncInVM(t *testing.T) {
	k, bin := syncGuest(t)
	res := vm.RunGuestTests(t, vm.Spec{Kernel: k, HostPrograms: []string{ipvsadmPath}, Timeout: 5 * time.Minute},
		vm.GuestTests{Binary: bin, Path: "/usr/local/bin/syncguest.test", Want: syncGuestTests})
	// Every parameter case ran; none was skipped.
	if n := len(regexp.MustCompile(`--- PASS: TestDaemonParameters/`).FindAllString(res.Console, -1)); n != 14 {
		t.Errorf("%d parameter cases passed, want 14", n)
	}
	// The figures: the observer test's, one line per case (IPv4, IPv6,
	// IPv4 over four sync ports), the decode errors of each IPv4 case, and
	// the stops that got no ack.
	for re, n := range map[string]int{`SYNC FIGURES .*`: 3, `SYNC ERRORS: .*`: 2, `SYNC FLAP: .*`: 1} {
		ms := regexp.MustCompile(re).FindAllString(res.Console, -1)
		if len(ms) != n {
			t.Errorf("guest output has %d lines matching %s, want %d", len(ms), re, n)
		}
		for _, m := range ms {
			t.Log(m)
		}
	}
}

// TestSyncWithoutIPVS boots without any module: OpenKernel must fail with
// ErrNoIPVS, saying how to fix it, and load nothing.
func TestSyncWithoutIPVS(t *testing.T) {
	k, bin := syncGuest(t)
	vm.RunGuestTests(t, vm.Spec{Kernel: k, Modules: []string{}, Env: []string{"LVSD_EXPECT_NO_IPVS=1"}, Timeout: 2 * time.Minute},
		vm.GuestTests{Binary: bin, Path: "/usr/local/bin/syncguest.test", Run: "^TestNoIPVS$", Want: []string{"TestNoIPVS"}})
}
