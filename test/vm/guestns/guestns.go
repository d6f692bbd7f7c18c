//go:build vmguest

// Package guestns is what the VM guest tests share: the guard that keeps
// every guest binary off the host (Main), and for test/vm/ipvsguest and
// test/vm/syncguest named network namespaces to run in (by path, outside
// the lab of test/lab) and their rtnetlink set-up; the stock ipvsadm is
// test/lab's. It is built into the guest binaries only, without harness
// code.
package guestns

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Main runs the tests only inside the VM harness, whose /init sets
// LVSD_VM_GUEST=1 (vm.GuestEnvMarker, not imported to keep the guest free
// of harness code); elsewhere it says why and exits 2. what says what the
// tests would do to the kernel, run the command that runs them.
func Main(m *testing.M, name, what, run string) {
	if os.Getenv("LVSD_VM_GUEST") != "1" {
		fmt.Fprintf(os.Stderr, "%s: these tests %s and run only inside the VM harness (%s)\n", name, what, run)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// New creates the network namespace name with lo up (IPVS refuses
// destinations while lo is down: without the local table every address
// looks like a broadcast), after writing sysctls ("net/ipv6/conf/all/
// accept_dad=0", paths under /proc/sys) inside it, and returns its path.
// It is deleted when the test ends.
func New(t *testing.T, name string, sysctls ...string) string {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		// This thread ends up in the new namespace; it stays locked so that
		// the runtime retires it with the goroutine.
		runtime.LockOSThread()
		ns, err := netns.NewNamed(name)
		if err != nil {
			errc <- fmt.Errorf("netns.NewNamed(%q): %w", name, err)
			return
		}
		defer ns.Close()
		for _, kv := range sysctls {
			k, v, _ := strings.Cut(kv, "=")
			if err := os.WriteFile(filepath.Join("/proc/sys", k), []byte(v), 0o644); err != nil {
				errc <- err
				return
			}
		}
		errc <- withLinks(ns, func(h *netlink.Handle) error { return Up(h, "lo") })
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := netns.DeleteNamed(name); err != nil {
			t.Errorf("netns.DeleteNamed(%q): %v", name, err)
		}
	})
	return "/run/netns/" + name
}

// In runs f on a thread in the namespace at path; sockets f opens stay
// there. The thread is retired afterwards.
func In(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		ns, err := netns.GetFromPath(path)
		if err != nil {
			errc <- err
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter %s: %w", path, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

func withLinks(ns netns.NsHandle, f func(*netlink.Handle) error) error {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink handle: %w", err)
	}
	defer h.Close()
	return f(h)
}

// Configure runs f with an rtnetlink handle in the namespace at path.
func Configure(t *testing.T, path string, f func(*netlink.Handle) error) {
	t.Helper()
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if err := withLinks(ns, f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Up sets the link name up.
func Up(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	return nil
}

// AddAddr adds cidr to link, usable at once (no duplicate address
// detection), and sets the link up.
func AddAddr(h *netlink.Handle, link, cidr string) error {
	l, err := h.LinkByName(link)
	if err != nil {
		return err
	}
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		return err
	}
	a.Flags = unix.IFA_F_NODAD
	if err := h.AddrAdd(l, a); err != nil {
		return fmt.Errorf("add %s to %s: %w", cidr, link, err)
	}
	return Up(h, link)
}

// Veth links the namespaces at nsA and nsB with a veth pair, interface a
// in nsA and b in nsB (both down).
func Veth(t *testing.T, a, nsA, b, nsB string) {
	t.Helper()
	hb, err := netns.GetFromPath(nsB)
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close()
	Configure(t, nsA, func(h *netlink.Handle) error {
		return h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: a}, PeerName: b, PeerNamespace: netlink.NsFd(int(hb))})
	})
}
