package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
)

// Sweep removes every lab namespace under /run/netns, killing the
// processes inside first, whichever test made it and whether or not that
// test is still running. It is meant for `make` (via
// `go run ./test/lab/labsweep`) before and after the lab tier, not for a
// test. It returns the names it removed; names outside the lab's naming
// scheme are never touched.
func Sweep() ([]string, error) {
	return sweep(func(nsID) bool { return true })
}

// sweepStale removes the namespaces of labs that can no longer clean up
// after themselves: see isStale.
func sweepStale() ([]string, error) {
	self := os.Getpid()
	return sweep(func(id nsID) bool { return isStale(id, self, isOpenLab, pidAlive) })
}

// pidAlive reports whether a process with that pid exists. EPERM means it
// exists but belongs to someone else.
func pidAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// sweep removes the lab namespaces that match selects.
func sweep(selects func(nsID) bool) ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: list %s: %w", netnsDir, err)
	}
	var names []string
	inodes := map[uint64]bool{}
	var errs []error
	for _, e := range entries {
		id, ok := parseNSName(e.Name())
		if !ok || !selects(id) {
			continue
		}
		names = append(names, e.Name())
		ino, err := netnsInode(filepath.Join(netnsDir, e.Name()))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		if ino != 0 {
			inodes[ino] = true
		}
	}
	sort.Strings(names)
	if err := killProcsIn(inodes); err != nil {
		errs = append(errs, err)
	}
	var removed []string
	for _, name := range names {
		if err := removeNetnsFile(filepath.Join(netnsDir, name)); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
	}
	return removed, errors.Join(errs...)
}
