//go:build vm

package director

import "testing"

// TestDirectorInVM runs every guest test; the benchmarks are make bench's.
func TestDirectorInVM(t *testing.T) {
	runGuest(t, ".", "Bench|Demo")
}
