//go:build vm

package vm_test

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/vm"
)

// notLoaded mirrors guest.NotLoaded (a test-only constant of the guest
// package, which cannot be imported from here).
const notLoaded = "ip_vs is not loaded"

// ipvsadmPath is copied into the guest so that the guest test can compare
// its view with the stock tool's.
const ipvsadmPath = "/usr/sbin/ipvsadm"

// guestPath is where the guest test binary goes in the VM.
const guestPath = "/usr/local/bin/guest.test"

// The kernel and the guest binary are shared by the parallel tests.
var (
	kernelOnce = sync.OnceValues(func() (*vm.Kernel, error) {
		return vm.Prepare(context.Background())
	})
	guestOnce = sync.OnceValues(func() (string, error) {
		return vm.BuildStatic(context.Background(), "./test/vm/guest", "vmguest")
	})
)

// setup fails (never skips) when the host cannot run the tier: a skipped VM
// tier would look green while testing nothing.
func setup(t *testing.T) (*vm.Kernel, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the VM tier must run as root (refreshing apt lists for the kernel download needs it); running as uid " + strconv.Itoa(os.Geteuid()))
	}
	if err := vm.CheckHost(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	k, err := kernelOnce()
	if err != nil {
		t.Fatalf("prepare kernel: %v", err)
	}
	t.Logf("kernel %s ready in %v (%s)", k.Version, time.Since(start).Round(time.Millisecond), k.Vmlinuz)
	start = time.Now()
	bin, err := guestOnce()
	if err != nil {
		t.Fatalf("build guest test: %v", err)
	}
	t.Logf("guest test binary ready in %v", time.Since(start).Round(time.Millisecond))
	return k, bin
}

func guestSpec(t *testing.T, k *vm.Kernel, bin string, modules []string) vm.Spec {
	return vm.Spec{
		Kernel:       k,
		Files:        map[string]string{guestPath: bin},
		HostPrograms: []string{ipvsadmPath},
		Modules:      modules,
		Command:      []string{guestPath, "-test.v", "-test.count=1"},
		Console:      vm.LogFunc(t.Logf),
		Timeout:      2 * time.Minute,
	}
}

func logTimings(t *testing.T, res *vm.Result) {
	t.Logf("initramfs %.1f MiB, %d modules; boot to /init %v, total %v",
		float64(res.InitramfsBytes)/(1<<20), len(res.Modules),
		res.Boot.Round(time.Millisecond), res.Total.Round(time.Millisecond))
}

// TestGuestIPVS boots the real IPVS kernel and runs the guest test package:
// module loaded, service round trip through moby/ipvs and ipvsadm, and
// per-namespace tables.
func TestGuestIPVS(t *testing.T) {
	t.Parallel()
	k, bin := setup(t)
	spec := guestSpec(t, k, bin, nil)
	spec.Files, spec.Command = nil, nil
	res := vm.RunGuestTests(t, spec, vm.GuestTests{Binary: bin, Path: guestPath,
		Want: []string{"TestIPVSLoaded", "TestServiceRoundTrip", "TestNamespaceIsolation"}})
	loaded := false
	for _, m := range res.Modules {
		loaded = loaded || m.Name == "ip_vs"
	}
	if !loaded {
		t.Errorf("ip_vs is not among the loaded modules %v", res.Modules)
	}
}

// TestGuestWithoutIPVS proves that the guest's IPVS check is real: with no
// module in the image (so nothing can load ip_vs behind our back), the same
// guest test must fail, and for the right reason.
func TestGuestWithoutIPVS(t *testing.T) {
	t.Parallel()
	k, bin := setup(t)
	res, err := vm.Run(t.Context(), guestSpec(t, k, bin, []string{}))
	if err != nil {
		t.Fatal(err)
	}
	logTimings(t, res)
	if len(res.Modules) != 0 {
		t.Errorf("image has modules %v, want none", res.Modules)
	}
	if res.Passed {
		t.Fatal("guest test passed on a kernel without ip_vs: its IPVS check proves nothing")
	}
	// go test -v prints the test's log before its FAIL line.
	if !regexp.MustCompile(`(?m)^=== RUN +TestIPVSLoaded\n\s+\S+: ` + regexp.QuoteMeta(notLoaded) + `:.*\n--- FAIL: TestIPVSLoaded `).MatchString(res.Console) {
		t.Errorf("guest test failed (exit %d), but not with %q from TestIPVSLoaded", res.ExitCode, notLoaded)
	}
}

// TestHarness covers the harness's own contract with cheap guests: exit
// codes, Env and Data reach the command, and each way of not getting a
// verdict is an error that says why.
func TestHarness(t *testing.T) {
	t.Parallel()
	k, _ := setup(t)
	base := func(t *testing.T) vm.Spec {
		return vm.Spec{Kernel: k, Modules: []string{}, Console: vm.LogFunc(t.Logf), Timeout: time.Minute}
	}

	t.Run("exit code, env, data, modules", func(t *testing.T) {
		t.Parallel()
		spec := base(t)
		spec.Modules = []string{"dummy"}
		spec.Env = []string{"GREETING=hello 'quoted' world"}
		spec.Data = map[string][]byte{"/etc/lvsd/greet": []byte("#!/bin/sh\necho \"$GREETING from script\"\nexit 7\n")}
		spec.Command = []string{"sh", "-c", "test -d /sys/module/dummy || exit 99; /etc/lvsd/greet"}
		res, err := vm.Run(t.Context(), spec)
		if err != nil {
			t.Fatal(err)
		}
		logTimings(t, res)
		if res.ExitCode != 7 || res.Passed {
			t.Errorf("exit code %d, passed %v; want 7, false", res.ExitCode, res.Passed)
		}
		if !strings.Contains(res.Console, "hello 'quoted' world from script") {
			t.Error("console lacks the script's output")
		}
	})
	t.Run("kernel panic", func(t *testing.T) {
		t.Parallel()
		spec := base(t)
		spec.Command = []string{"sh", "-c", "echo c > /proc/sysrq-trigger"}
		_, err := vm.Run(t.Context(), spec)
		if err == nil || !strings.Contains(err.Error(), "kernel panic") {
			t.Fatalf("got error %v, want a kernel panic", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		spec := base(t)
		spec.Command = []string{"sleep", "600"}
		spec.Timeout = 8 * time.Second
		start := time.Now()
		_, err := vm.Run(t.Context(), spec)
		if err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("got error %v, want a timeout", err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("timeout took %v to fire", d)
		}
	})
	t.Run("unknown module", func(t *testing.T) {
		spec := base(t)
		spec.Modules = []string{"ip_vs", "no_such_module"}
		spec.Command = []string{"true"}
		_, err := vm.Run(t.Context(), spec)
		if err == nil || !strings.Contains(err.Error(), `"no_such_module"`) {
			t.Fatalf("got error %v, want one naming no_such_module", err)
		}
	})
	t.Run("dynamic binary in Files", func(t *testing.T) {
		spec := base(t)
		spec.Files = map[string]string{"/bin/ipvsadm": ipvsadmPath}
		spec.Command = []string{"true"}
		_, err := vm.Run(t.Context(), spec)
		if err == nil || !strings.Contains(err.Error(), "dynamically linked") {
			t.Fatalf("got error %v, want a dynamically linked complaint", err)
		}
	})
}
