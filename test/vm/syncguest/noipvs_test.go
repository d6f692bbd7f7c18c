//go:build vmguest

package syncguest

import (
	"errors"
	"os"
	"strings"
	"testing"

	lvsync "github.com/lvsd/lvsd/sync"
)

// TestNoIPVS runs in a guest booted without modules (the host's
// TestSyncWithoutIPVS): OpenKernel must fail with ErrNoIPVS and the fix,
// and load nothing.
func TestNoIPVS(t *testing.T) {
	if os.Getenv("LVSD_EXPECT_NO_IPVS") != "1" {
		t.Skip("only in a guest without IPVS (LVSD_EXPECT_NO_IPVS=1)")
	}
	_, err := lvsync.OpenKernel("")
	if !errors.Is(err, lvsync.ErrNoIPVS) || !strings.Contains(err.Error(), "modprobe ip_vs") {
		t.Errorf("OpenKernel: %v; want ErrNoIPVS with the fix", err)
	}
	if _, err := os.Stat("/sys/module/ip_vs"); err == nil {
		t.Error("ip_vs got loaded")
	}
	t.Logf("OpenKernel: %v", err)
}
