//go:build vm || bench

package director

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/vm"
)

// runGuest boots the VM with lvsd and the guest tests and runs the guest
// tests matching run; it fails unless every one of them passed.
func runGuest(t *testing.T, run string) string {
	return runGuestSkipping(t, run, "")
}

// runGuestSkipping is runGuest with a -test.skip pattern.
func runGuestSkipping(t *testing.T, run, skip string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the VM tier needs root (qemu, and the lab inside the guest)")
	}
	if err := vm.CheckHost(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	k, err := vm.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// LVSD_TEST_BINARY tests a given static build instead of this tree's.
	lvsd := os.Getenv("LVSD_TEST_BINARY")
	if lvsd == "" {
		if lvsd, err = vm.BuildStaticMain(ctx, "github.com/lvsd/lvsd/cmd/lvsd"); err != nil {
			t.Fatal(err)
		}
	}
	guest, err := vm.BuildStatic(ctx, "github.com/lvsd/lvsd/test/director/guest", "vmguest")
	if err != nil {
		t.Fatal(err)
	}
	if skip == "" {
		skip = "^$"
	}
	res, err := vm.Run(ctx, vm.Spec{
		Kernel:       k,
		Files:        map[string]string{"/bin/lvsd": lvsd, "/bin/director.test": guest},
		HostPrograms: []string{"/usr/sbin/ipvsadm", "/usr/sbin/nft", "/usr/sbin/keepalived"},
		Modules:      append(vm.DefaultModules(), "nf_tables"),
		Command:      []string{"/bin/director.test", "-test.v", "-test.run", run, "-test.skip", skip, "-test.timeout", "10m"},
		Timeout:      12 * time.Minute,
		MemoryMB:     1024,
		CPUs:         2, // lvsd, the servers and the test side by side, as on a real director
		Console:      vm.LogFunc(t.Logf),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("boot %s, total %s", res.Boot, res.Total)
	if !res.Passed {
		t.Fatalf("guest tests failed (exit %d)", res.ExitCode)
	}
	// A guest run that matched nothing would pass silently.
	passed := regexp.MustCompile(`(?m)^--- PASS: (\w+)`).FindAllStringSubmatch(res.Console, -1)
	if len(passed) == 0 || !strings.Contains(res.Console, "\nPASS") {
		t.Fatalf("no guest test passed for -run %q", run)
	}
	return res.Console
}
