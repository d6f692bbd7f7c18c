//go:build vmguest

// Package guest holds the director tests that run inside the VM, where
// the kernel has IPVS.
package guest

import (
	"cmp"
	"fmt"
	"os"
	"testing"
)

// lvsdBin is where the host test puts the static lvsd binary; the demo on
// a host that has IPVS points LVSD_BIN at its build.
var lvsdBin = cmp.Or(os.Getenv("LVSD_BIN"), "/bin/lvsd")

func TestMain(m *testing.M) {
	if os.Getenv("LVSD_VM_GUEST") != "1" {
		fmt.Fprintln(os.Stderr, "guest: these tests program the kernel's IPVS table and run only inside the VM (go test -tags vm ./test/director/)")
		os.Exit(2)
	}
	os.Exit(m.Run())
}
