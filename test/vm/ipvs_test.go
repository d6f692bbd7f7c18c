//go:build vm

package vm_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/vm"
)

// ipvsGuestOnce builds the guest tests of package ipvs (test/vm/ipvsguest).
var ipvsGuestOnce = sync.OnceValues(func() (string, error) {
	return vm.BuildStatic(context.Background(), "./test/vm/ipvsguest", "vmguest")
})

// ipvsGuestTests must each report PASS: a green run with fewer tests (a
// rename, a skip) would prove less than it claims.
var ipvsGuestTests = []string{
	"TestSchedulers", "TestKernelErrors", "TestTimeouts", "TestFWMarkAndIPv6", "TestPersistenceNetmask",
	"TestHashedNeverLeaks", "TestReconcilerConverges", "TestConnectionSurvivesRestartAndUpdate", "TestConnectionTable",
}

func ipvsGuest(t *testing.T) (*vm.Kernel, string) {
	t.Helper()
	k, _ := setup(t)
	bin, err := ipvsGuestOnce()
	if err != nil {
		t.Fatalf("build ipvs guest test: %v", err)
	}
	return k, bin
}

// TestIPVSPackageInVM runs package ipvs against the real kernel: every
// scheduler, scheduler flags, fwmark and IPv6 services, persistence and
// netmask, the reconciler's ops compared with the Fake's and its table with
// ipvsadm's, zero ops on restart, HASHED masked, and an established
// connection through a NAT director surviving restart and update.
//
// Not parallel, so it does not share the two host CPUs with the other
// guests and their shorter timeouts.
func TestIPVSPackageInVM(t *testing.T) {
	k, bin := ipvsGuest(t)
	vm.RunGuestTests(t, vm.Spec{Kernel: k, HostPrograms: []string{ipvsadmPath}, Timeout: 5 * time.Minute},
		vm.GuestTests{Binary: bin, Path: "/usr/local/bin/ipvsguest.test", Want: ipvsGuestTests})
}

// TestIPVSWithoutModule boots without any module and with a modprobe that
// logs its calls: ipvs.Open must fail with ErrNoIPVS and never get as far
// as moby/ipvs's modprobe.
func TestIPVSWithoutModule(t *testing.T) {
	k, bin := ipvsGuest(t)
	vm.RunGuestTests(t, vm.Spec{
		Kernel:  k,
		Modules: []string{},
		Data: map[string][]byte{
			// Ahead of busybox's modprobe in PATH.
			"/usr/local/sbin/modprobe": []byte("#!/bin/sh\necho \"$@\" >> /tmp/modprobe.log\n"),
		},
		Env:     []string{"LVSD_EXPECT_NO_IPVS=1"},
		Timeout: 2 * time.Minute,
	}, vm.GuestTests{Binary: bin, Path: "/usr/local/bin/ipvsguest.test", Run: "^TestNoIPVS$", Want: []string{"TestNoIPVS"}})
}
