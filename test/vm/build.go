package vm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// BuildStatic compiles the tests of pkg into a static binary for the guest
// (CGO_ENABLED=0 go test -c) and returns its path in the cache. pkg is an
// import path or a path relative to the repo root, e.g. "./test/vm/guest".
// Run it in the guest with "-test.v" and friends (GuestTests). The lvsd
// binary itself comes from lvsdtest.Binary, which honours LVSD_TEST_BINARY.
func BuildStatic(ctx context.Context, pkg string, tags ...string) (string, error) {
	return buildStatic(ctx, "test", pkg, tags)
}

func buildStatic(ctx context.Context, mode, pkg string, tags []string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("vm: build %s: %w", pkg, err)
	}
	// One stable name per (mode, pkg, tags), so that repeated runs reuse the
	// file name and Go's build cache makes the rebuild cheap.
	sum := sha256.Sum256([]byte(mode + "\x00" + pkg + "\x00" + strings.Join(tags, ",")))
	name := path.Base(strings.TrimSuffix(pkg, "/")) + "-" + hex.EncodeToString(sum[:6])
	if mode == "test" {
		name += ".test"
	}
	out := filepath.Join(dir, name)

	// Build next to the target and rename: parallel tests may build the
	// same binary while another one copies it into an initramfs.
	tmpDir, err := os.MkdirTemp(dir, ".build-*")
	if err != nil {
		return "", fmt.Errorf("vm: build %s: %w", pkg, err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, name)
	args := []string{mode}
	if mode == "test" {
		args = append(args, "-c")
	}
	args = append(args, "-o", tmp)
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("vm: go %s: %w\n%s", strings.Join(args, " "), err, b)
	} else if st, err := os.Stat(tmp); err != nil || st.Size() == 0 {
		// go test -c writes nothing for a package without tests.
		return "", fmt.Errorf("vm: go %s produced no binary (no test files for these tags?)\n%s", strings.Join(args, " "), b)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("vm: build %s: %w", pkg, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("vm: build %s: %w", pkg, err)
	}
	return out, nil
}
