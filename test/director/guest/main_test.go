//go:build vmguest

// Package guest holds the director tests that run inside the VM, where
// the kernel has IPVS.
package guest

import (
	"cmp"
	"os"
	"testing"

	"github.com/lvsd/lvsd/test/vm/guestns"
)

// lvsdBin is where the host test puts the static lvsd binary; the demo on
// a host that has IPVS points LVSD_BIN at its build.
var lvsdBin = cmp.Or(os.Getenv("LVSD_BIN"), "/bin/lvsd")

func TestMain(m *testing.M) {
	guestns.Main(m, "guest", "program the kernel's IPVS table", "go test -tags vm ./test/director/")
}
