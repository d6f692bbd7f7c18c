package vm

import (
	"errors"
	"fmt"
	"os/exec"
)

// hostTools are the host programs the harness runs, with the Debian package
// that provides each.
var hostTools = []struct{ name, pkg string }{
	{"qemu-system-x86_64", "qemu-system-x86"},
	{"apt-get", "apt"},
	{"apt-cache", "apt"},
	{"dpkg-deb", "dpkg"},
	{"depmod", "kmod"},
	{"modprobe", "kmod"},
	{"ldd", "libc-bin"},
	{"go", "a Go toolchain"},
}

// CheckHost reports every missing prerequisite at once, so that a test can
// fail with the full list instead of one tool at a time.
func CheckHost() error {
	var errs []error
	for _, t := range hostTools {
		if _, err := exec.LookPath(t.name); err != nil {
			errs = append(errs, fmt.Errorf("%s not found (install %s)", t.name, t.pkg))
		}
	}
	if err := requireStatic(BusyboxPath); err != nil {
		errs = append(errs, fmt.Errorf("busybox: %w (install busybox-static)", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("vm: host not ready:\n%w", err)
	}
	return nil
}
