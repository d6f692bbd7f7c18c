package lvsdtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// BinaryEnv names a ready lvsd binary to test instead of building this
// tree's: a release build on the host, or /bin/lvsd inside the VM, where
// the harness copies it and sets the variable.
const BinaryEnv = "LVSD_TEST_BINARY"

// binary builds lvsd at most once per test process.
var binary = sync.OnceValues(func() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		return p, nil
	}
	dir, err := os.MkdirTemp("", "lvsd-test-bin-")
	if err != nil {
		return "", fmt.Errorf("lvsdtest: build lvsd: %w", err)
	}
	out := filepath.Join(dir, "lvsd")
	// Static: the same file runs in the lab and inside the VM's initramfs,
	// which has no libc.
	cmd := exec.CommandContext(context.Background(), "go", "build", "-trimpath", "-o", out, "github.com/lvsd/lvsd/cmd/lvsd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("lvsdtest: go build ./cmd/lvsd: %w\n%s", err, b)
	}
	return out, nil
})

// Binary returns the path of the static lvsd binary under test: the one
// named by $LVSD_TEST_BINARY, or else this tree's ./cmd/lvsd built once per
// process (the build is left in a temporary folder, so that any number of
// tests and VM images can copy it).
func Binary() (string, error) { return binary() }

// MustBinary is Binary for tests: a failed build fails t.
func MustBinary(t testing.TB) string {
	t.Helper()
	p, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
