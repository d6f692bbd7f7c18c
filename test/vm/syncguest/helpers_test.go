//go:build vmguest

package syncguest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	lvsync "github.com/lvsd/lvsd/sync"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	// Same variable as vm.GuestEnvMarker; not imported to keep the guest
	// binary free of harness code.
	if os.Getenv("LVSD_VM_GUEST") != "1" {
		fmt.Fprintln(os.Stderr, "syncguest: these tests start the kernel's sync daemons and run only inside the VM harness (go test -tags vm -run Sync ./test/vm/)")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// newNetns creates a network namespace with lo up and IPv6 duplicate
// address detection off (so that link-local addresses, which an IPv6
// master daemon sends from, are usable at once), and returns its path.
// Each test gets its own: a namespace has its own pair of sync daemons.
func newNetns(t *testing.T, name string) string {
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
		for _, p := range []string{"/proc/sys/net/ipv6/conf/default/accept_dad", "/proc/sys/net/ipv6/conf/all/accept_dad"} {
			if err := os.WriteFile(p, []byte("0"), 0o644); err != nil {
				errc <- err
				return
			}
		}
		errc <- withLinks(ns, func(h *netlink.Handle) error { return up(h, "lo") })
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

// inNetns runs f on a thread in the namespace at path; sockets f opens
// stay there. The thread is retired afterwards.
func inNetns(path string, f func() error) error {
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

// configure runs f with an rtnetlink handle in the namespace at path.
func configure(t *testing.T, path string, f func(*netlink.Handle) error) {
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

func up(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	return nil
}

func addDummy(h *netlink.Handle, name string) error {
	if err := h.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
		return fmt.Errorf("add dummy %s: %w", name, err)
	}
	return up(h, name)
}

func addAddr(h *netlink.Handle, link, cidr string) error {
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
	return up(h, link)
}

// vethPair links namespaces nsA and nsB with interfaces a and b.
func vethPair(t *testing.T, a, nsA, b, nsB string) {
	t.Helper()
	hb, err := netns.GetFromPath(nsB)
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close()
	configure(t, nsA, func(h *netlink.Handle) error {
		return h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: a}, PeerName: b, PeerNamespace: netlink.NsFd(int(hb))})
	})
}

// openKernel opens the sync daemon control of the namespace at path.
func openKernel(t *testing.T, path string) *lvsync.Kernel {
	t.Helper()
	k, err := lvsync.OpenKernel(path)
	if err != nil {
		t.Fatalf("OpenKernel(%q): %v", path, err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// ipvsadm runs "ipvsadm args..." in the namespace at ns.
func ipvsadm(t *testing.T, ns string, args ...string) string {
	t.Helper()
	argv := append([]string{"nsenter", "--net=" + ns, "ipvsadm"}, args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// ipvsadmDaemons is "ipvsadm -L --daemon" in ns, one line per daemon: the
// stock tool's view of the kernel, to compare with Daemon.String.
func ipvsadmDaemons(t *testing.T, ns string) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(ipvsadm(t, ns, "-L", "--daemon"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// connTable reads the IPVS connection table of the namespace at ns
// (/proc/net/ip_vs_conn shows the namespace of the reading thread), one
// slice of fields per entry: Pro FromIP FPrt ToIP TPrt DestIP DPrt State
// Expires.
func connTable(t *testing.T, ns string) [][]string {
	t.Helper()
	var rows [][]string
	err := inNetns(ns, func() error {
		f, err := os.Open("/proc/thread-self/net/ip_vs_conn")
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for first := true; sc.Scan(); first = false {
			if !first {
				rows = append(rows, strings.Fields(sc.Text()))
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatalf("connection table of %s: %v", ns, err)
	}
	return rows
}

// hexAddrPort renders addr:port as ip_vs_conn prints an IPv4 entry.
func hexAddrPort(ap string) (string, string) {
	a, err := net.ResolveUDPAddr("udp4", ap)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%08X", []byte(a.IP.To4())), fmt.Sprintf("%04X", a.Port)
}

var errTimeout = errors.New("timed out")
