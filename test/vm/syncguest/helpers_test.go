//go:build vmguest

package syncguest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	lvsync "github.com/lvsd/lvsd/sync"
	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/vm/guestns"
	"github.com/vishvananda/netlink"
)

// newNetns creates a network namespace with lo up and IPv6 duplicate
// address detection off (so that link-local addresses, which an IPv6
// master daemon sends from, are usable at once), and returns its path.
// Each test gets its own: a namespace has its own pair of sync daemons.
func newNetns(t *testing.T, name string) string {
	return guestns.New(t, name, "net/ipv6/conf/default/accept_dad=0", "net/ipv6/conf/all/accept_dad=0")
}

func addDummy(h *netlink.Handle, name string) error {
	if err := h.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
		return fmt.Errorf("add dummy %s: %w", name, err)
	}
	return guestns.Up(h, name)
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

// ipvsadmDaemons is "ipvsadm -L --daemon" in ns, one line per daemon: the
// stock tool's view of the kernel, to compare with Daemon.String.
func ipvsadmDaemons(t *testing.T, ns string) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(lab.Ipvsadm(t, ns, "-L", "--daemon"), "\n") {
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
	err := guestns.In(ns, func() error {
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

func TestMain(m *testing.M) {
	guestns.Main(m, "syncguest", "start the kernel's sync daemons", "go test -tags vm -run Sync ./test/vm/")
}
