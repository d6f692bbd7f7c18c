package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsd/lvsd/internal/doctor/firewall"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
)

// Kernel is Host on this machine: /proc, rtnetlink, nft,
// iptables-legacy-save and raw VRRP sockets, all in the caller's network
// namespace.
type Kernel struct{}

var _ Host = Kernel{}

func (Kernel) Sysctl(key string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc/sys", key))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func (Kernel) IPVS() IPVSStatus {
	st := IPVSStatus{Kernel: kernelRelease()}
	err := ipvs.CheckIPVS()
	if err == nil {
		st.Loaded = true
		return st
	}
	if !errors.Is(err, ipvs.ErrNoIPVS) {
		st.Detail = err.Error()
		return st
	}
	dir := filepath.Join("/lib/modules", st.Kernel)
	dep, derr := os.ReadFile(filepath.Join(dir, "modules.dep"))
	switch {
	case derr == nil && regexp.MustCompile(`(?m)(^|/)ip_vs\.ko(\.[a-z]+)?:`).Match(dep):
		st.Loadable = true
		st.Detail = "the ip_vs module is installed but not loaded"
		return st
	case derr == nil:
		st.Detail = "/proc/net/ip_vs is absent and " + dir + " has no ip_vs module"
	default:
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			st.Detail = "/proc/net/ip_vs is absent and there is no module to load (" + dir + " does not exist)"
		} else {
			st.Detail = "/proc/net/ip_vs is absent and " + dir + "/modules.dep cannot be read"
		}
	}
	if b, err := os.ReadFile("/boot/config-" + st.Kernel); err == nil && !bytes.Contains(b, []byte("\nCONFIG_IP_VS=")) {
		st.Detail += "; the kernel was built without CONFIG_IP_VS"
	}
	return st
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func (Kernel) Links() ([]Link, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []Link
	for _, l := range links {
		a := l.Attrs()
		dl := Link{
			Name:     a.Name,
			Kind:     l.Type(),
			Up:       a.Flags&net.FlagUp != 0,
			Carrier:  a.RawFlags&unix.IFF_LOWER_UP != 0,
			Loopback: a.Flags&net.FlagLoopback != 0,
			NoARP:    a.RawFlags&unix.IFF_NOARP != 0,
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", a.Name, err)
		}
		for _, ad := range addrs {
			ip, ok := netip.AddrFromSlice(ad.IP)
			if !ok || ad.IPNet == nil {
				continue
			}
			ones, _ := ad.Mask.Size()
			ip = ip.Unmap()
			dl.Addrs = append(dl.Addrs, netip.PrefixFrom(ip, ones))
		}
		out = append(out, dl)
	}
	return out, nil
}

func linkName(index int) (string, error) {
	l, err := netlink.LinkByIndex(index)
	if err != nil {
		return "", err
	}
	return l.Attrs().Name, nil
}

func (Kernel) RouteTo(ip netip.Addr) (string, error) {
	routes, err := netlink.RouteGet(net.IP(ip.AsSlice()))
	if err != nil {
		return "", fmt.Errorf("route to %s: %w", ip, err)
	}
	if len(routes) == 0 {
		return "", fmt.Errorf("no route to %s", ip)
	}
	return linkName(routes[0].LinkIndex)
}

func (Kernel) DefaultRoutes(v6 bool) ([]string, error) {
	family := netlink.FAMILY_V4
	if v6 {
		family = netlink.FAMILY_V6
	}
	routes, err := netlink.RouteList(nil, family)
	if err != nil {
		return nil, err
	}
	var out []string
	add := func(index int) {
		if name, err := linkName(index); err == nil && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, r := range routes {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		if r.LinkIndex > 0 {
			add(r.LinkIndex)
		}
		for _, nh := range r.MultiPath {
			add(nh.LinkIndex)
		}
	}
	return out, nil
}

// LegacyFilter reads the legacy filter table: the kernel lists its
// x_tables in /proc/net/ip_tables_names (ip6_tables_names), and
// iptables-legacy-save prints one.
func (Kernel) LegacyFilter(v6 bool) (LegacyFilter, error) {
	names, save := "/proc/net/ip_tables_names", firewall.LegacyCommand(v6)+"-save"
	if v6 {
		names = "/proc/net/ip6_tables_names"
	}
	b, err := os.ReadFile(names)
	if err != nil || !slices.Contains(strings.Fields(string(b)), "filter") {
		return LegacyFilter{}, nil // no legacy filter table in this kernel or namespace
	}
	bin, err := exec.LookPath(save)
	if err != nil {
		return LegacyFilter{}, fmt.Errorf("the kernel has a legacy filter table but %s is not installed (apt install iptables) to read it", save)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-t", "filter")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return LegacyFilter{}, fmt.Errorf("%s -t filter: %v: %s", save, err, strings.TrimSpace(stderr.String()))
	}
	return LegacyFilter{Loaded: true, Save: string(out)}, nil
}

func (Kernel) Ruleset() ([]byte, error) {
	nft, err := exec.LookPath("nft")
	if err != nil {
		what := "nft is not installed"
		if _, err := exec.LookPath("iptables"); err == nil {
			what += "; iptables rules are not read (look for protocol 112/vrrp in iptables -S INPUT)"
		}
		return nil, errors.New(what)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, nft, "-j", "list", "ruleset")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "Operation not permitted") {
			return nil, errors.New("nft -j list ruleset needs root (CAP_NET_ADMIN)")
		}
		return nil, fmt.Errorf("nft -j list ruleset: %v: %s", err, msg)
	}
	return out, nil
}

func (Kernel) Processes(name string) ([]int, error) {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return nil, err
	}
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", d.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != name {
			continue
		}
		if ns, err := os.Readlink(filepath.Join("/proc", d.Name(), "ns/net")); err == nil && ns == self {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Listen opens the raw VRRP socket of each interface, as the daemon does,
// takes every VRID and keeps what parses as an advert.
func (Kernel) Listen(on []ListenOn, d time.Duration) ([]Advert, error) {
	c := &collector{}
	var errs []error
	var socks []*vrrp.Socket
	var wg sync.WaitGroup
	for _, l := range on {
		s, err := vrrp.OpenSocket(l.Interface, l.IPv6)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for vrid := 1; vrid <= 255; vrid++ {
			if err := s.Register(uint8(vrid), &receiver{c, l.Interface}, true); err != nil {
				errs = append(errs, err)
				break
			}
		}
		socks = append(socks, s)
		wg.Go(func() { s.Serve(c.readFailed) })
	}
	if len(socks) > 0 {
		time.Sleep(d)
	}
	for _, s := range socks {
		s.Close()
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.heard, errors.Join(append(errs, c.errs...)...)
}

type collector struct {
	mu    sync.Mutex
	heard []Advert
	errs  []error
}

func (c *collector) readFailed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, err)
}

type receiver struct {
	c     *collector
	iface string
}

func (r *receiver) Deliver(p vrrp.Packet) {
	a, err := vrrp.ParseAdvert(p.Data, p.Src, p.Dst)
	if err != nil {
		return
	}
	r.c.mu.Lock()
	r.c.heard = append(r.c.heard, Advert{Interface: r.iface, Src: p.Src.Unmap(), TTL: p.TTL, Advert: a})
	r.c.mu.Unlock()
}
