//go:build lab || bench

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lvsd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// LVSD_TEST_BINARY tests a given static build instead of this tree's.
	if lvsdBin = os.Getenv("LVSD_TEST_BINARY"); lvsdBin != "" {
		os.Exit(m.Run())
	}
	lvsdBin = filepath.Join(dir, "lvsd")
	build := exec.Command("go", "build", "-o", lvsdBin, "../../cmd/lvsd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building lvsd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
