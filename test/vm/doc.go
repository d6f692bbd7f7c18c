// Package vm is the tier-3 test harness: it boots Debian's cloud kernel under
// qemu (TCG) with a throwaway initramfs so that tests can exercise a real
// IPVS kernel, which the development host lacks and cannot load.
//
// The flow is:
//
//	k, err := vm.Prepare(ctx)                 // download/extract the kernel once
//	bin, err := vm.BuildStatic(ctx, "./test/vm/guest", "vmguest")
//	res, err := vm.Run(ctx, vm.Spec{
//		Kernel:       k,
//		Files:        map[string]string{"/bin/guest.test": bin},
//		HostPrograms: []string{"/usr/sbin/ipvsadm"},
//		Command:      []string{"/bin/guest.test", "-test.v"},
//		Console:      vm.LogFunc(t.Logf),
//	})
//
// A guest run of Go tests goes through RunGuestTests, which also fails the
// test unless each named guest test printed its PASS line (RequirePass):
//
//	vm.RunGuestTests(t, vm.Spec{Kernel: k, HostPrograms: …},
//		vm.GuestTests{Binary: bin, Want: []string{"TestIPVSLoaded", …}})
//
// Inside the guest, /init (a busybox shell script) mounts the usual pseudo
// file systems, loads the requested kernel modules with insmod, runs the
// command and prints a verdict line that Run parses. Run is safe to call from
// parallel tests; each call builds its own initramfs and qemu process.
//
// Everything downloaded or built is kept in <repo>/.cache/vm (or $LVSD_CACHE),
// which is ignored by git.
package vm
