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
	runGuestTests(t, k, bin, "/usr/local/bin/ipvsguest.test", ipvsGuestTests)
}

// TestIPVSWithoutModule boots without any module and with a modprobe that
// logs its calls: ipvs.Open must fail with ErrNoIPVS and never get as far
// as moby/ipvs's modprobe.
func TestIPVSWithoutModule(t *testing.T) {
	k, bin := ipvsGuest(t)
	res, err := vm.Run(t.Context(), vm.Spec{
		Kernel:  k,
		Modules: []string{},
		Files:   map[string]string{"/usr/local/bin/ipvsguest.test": bin},
		Data: map[string][]byte{
			// Ahead of busybox's modprobe in PATH.
			"/usr/local/sbin/modprobe": []byte("#!/bin/sh\necho \"$@\" >> /tmp/modprobe.log\n"),
		},
		Env:     []string{"LVSD_EXPECT_NO_IPVS=1"},
		Command: []string{"/usr/local/bin/ipvsguest.test", "-test.v", "-test.count=1", "-test.run", "^TestNoIPVS$"},
		Console: vm.LogFunc(t.Logf),
		Timeout: 2 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	logTimings(t, res)
	if !res.Passed || !regexp.MustCompile(`--- PASS: TestNoIPVS `).MatchString(res.Console) {
		t.Fatalf("guest TestNoIPVS did not pass (exit code %d, console above)", res.ExitCode)
	}
}
