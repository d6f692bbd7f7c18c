//go:build vm || bench

package director

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/test/vm"
)

// runGuest boots the VM with lvsd and the guest tests (package guest) and
// runs the guest tests matching run and not skip; it fails unless each of
// them reported PASS (vm.RunGuestTests). It returns the console.
func runGuest(t *testing.T, run, skip string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the VM tier needs root (qemu, and the lab inside the guest)")
	}
	if err := vm.CheckHost(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	k, err := vm.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	guest, err := vm.BuildStatic(ctx, "github.com/lvsd/lvsd/test/director/guest", "vmguest")
	if err != nil {
		t.Fatal(err)
	}
	res := vm.RunGuestTests(t, vm.Spec{
		Kernel:       k,
		Files:        map[string]string{"/bin/lvsd": lvsdtest.MustBinary(t)},
		Env:          []string{lvsdtest.BinaryEnv + "=/bin/lvsd"},
		HostPrograms: []string{"/usr/sbin/ipvsadm", "/usr/sbin/nft", "/usr/sbin/keepalived"},
		Modules:      append(vm.DefaultModules(), "nf_tables"),
		Timeout:      12 * time.Minute,
		MemoryMB:     1024,
		CPUs:         2, // lvsd, the servers and the test side by side, as on a real director
	}, vm.GuestTests{Binary: guest, Path: "/bin/director.test", Run: run, Skip: skip, Args: []string{"-test.timeout", "10m"}})
	return res.Console
}
