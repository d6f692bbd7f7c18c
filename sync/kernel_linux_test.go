package sync

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestOpenKernelWithoutIPVS runs where the kernel has no IPVS (this
// project's development host); the VM tier covers the other case.
func TestOpenKernelWithoutIPVS(t *testing.T) {
	if _, err := os.Stat(procIPVS); err == nil {
		t.Skip("this kernel has IPVS: covered by the VM tier (go test -tags vm -run Sync ./test/vm/)")
	}
	_, err := OpenKernel("")
	if !errors.Is(err, ErrNoIPVS) || !strings.Contains(err.Error(), "modprobe ip_vs") {
		t.Errorf("OpenKernel: %v; want ErrNoIPVS with the fix", err)
	}
	if _, err := OpenKernel("/nonexistent/netns"); !errors.Is(err, ErrNoIPVS) {
		t.Errorf("OpenKernel(bad netns): %v; the IPVS check comes first", err)
	}
}
