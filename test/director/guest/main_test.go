//go:build vmguest

// Package guest holds the director tests that run inside the VM, where
// the kernel has IPVS. They drive lvsd with test/lvsdtest, which finds the
// binary in $LVSD_TEST_BINARY: the VM harness copies it to /bin/lvsd and
// sets the variable; the demo, on a host with IPVS, points it at its build.
package guest

import (
	"testing"

	"github.com/lvsd/lvsd/test/vm/guestns"
)

func TestMain(m *testing.M) {
	guestns.Main(m, "guest", "program the kernel's IPVS table", "go test -tags vm ./test/director/")
}
