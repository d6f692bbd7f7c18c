package ipvs

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/vishvananda/netns"
)

// Connections reads the connection table of the network namespace at
// netnsPath ("" = the caller's), for `lvsd ipvs --connections`.
func Connections(netnsPath string) ([]Connection, error) {
	f, err := openConnTable(netnsPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: no connection table (/proc/net/ip_vs_conn)", ErrNoIPVS)
	} else if err != nil {
		return nil, fmt.Errorf("ipvs: connection table: %w", err)
	}
	defer f.Close()
	conns, err := ParseConnections(f)
	if err != nil {
		return conns, fmt.Errorf("ipvs: %w", err)
	}
	return conns, nil
}

// openConnTable opens ip_vs_conn of the namespace at path. A /proc/net file
// shows the namespace of the thread that opens it (through
// /proc/thread-self) and keeps it once open, so a thread enters the
// namespace only to open it. That thread is a fresh goroutine's, locked
// and never unlocked: the runtime retires it when the goroutine ends
// instead of reusing it in the wrong namespace.
func openConnTable(path string) (*os.File, error) {
	if path == "" {
		return os.Open("/proc/net/ip_vs_conn")
	}
	target, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", path, err)
	}
	defer target.Close()
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(target); err != nil {
			ch <- result{err: fmt.Errorf("enter namespace %s: %w", path, err)}
			return
		}
		f, err := os.Open("/proc/thread-self/net/ip_vs_conn")
		ch <- result{f, err}
	}()
	r := <-ch
	return r.f, r.err
}
