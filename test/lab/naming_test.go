package lab

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNSNameRoundTrip(t *testing.T) {
	for _, id := range []nsID{
		{pid: 1, seq: 0, kind: kindHost, name: "a"},
		{pid: 4194304, seq: 35, kind: kindNetwork, name: "lan"},
		{pid: 12345, seq: 1 << 40, kind: kindHost, name: "Dir_A-1"},
		{pid: 99, seq: 7, kind: kindHost, name: strings.Repeat("x", maxNameLen)},
	} {
		s := id.String()
		got, ok := parseNSName(s)
		if !ok || got != id {
			t.Errorf("parseNSName(%q) = %+v, %v; want %+v", s, got, ok, id)
		}
		if !strings.HasPrefix(s, labPrefix(id.pid, id.seq)+"-") {
			t.Errorf("%q does not start with its lab prefix", s)
		}
	}
	if got := labPrefix(36, 1); got != "lvl10-1" {
		t.Errorf("labPrefix(36, 1) = %q, want lvl10-1", got)
	}
}

// Anything outside the exact scheme must be left alone by Sweep.
func TestParseNSNameRejectsForeignNames(t *testing.T) {
	for _, s := range []string{
		"", "lvl", "lvl1", "lvl1-0", "lvl1-0-h", "lvl1-0-h-",
		"lvl1-0-x-a",   // unknown kind
		"lvl0-0-h-a",   // pid 0
		"lvlA-0-h-a",   // not lower-case base 36
		"lvl01-0-h-a",  // non-canonical pid
		"lvl1-00-h-a",  // non-canonical seq
		"lvl1-0-h--a",  // name starts with -
		"lvl1-0-h-a/b", // path
		"lvl1-0-h-a b",
		"xlvl1-0-h-a",
		"lvl1-0-h-a\n",
		"lvl1-0-h-" + strings.Repeat("x", maxNameLen+1),
		"lvlzzzzzzzzzzzzzz-0-h-a", // pid overflows
		"cni-5c1f0a6e-7f3b-2a1e-9c8d-000000000000",
		"lvsd", "lvl-1-0-h-a",
	} {
		if id, ok := parseNSName(s); ok {
			t.Errorf("parseNSName(%q) accepted: %+v", s, id)
		}
	}
}

func TestIsStale(t *testing.T) {
	const self = 100
	open := func(p string) bool { return p == labPrefix(self, 1) }
	alive := func(pid int) bool { return pid == self || pid == 200 }
	for _, c := range []struct {
		id    nsID
		stale bool
	}{
		{nsID{pid: self, seq: 1, kind: kindHost, name: "a"}, false}, // our open lab
		{nsID{pid: self, seq: 0, kind: kindHost, name: "a"}, true},  // ours, closed (or an old process with our pid)
		{nsID{pid: 200, seq: 0, kind: kindNetwork, name: "n"}, false},
		{nsID{pid: 300, seq: 0, kind: kindHost, name: "a"}, true},
	} {
		if got := isStale(c.id, self, open, alive); got != c.stale {
			t.Errorf("isStale(%v) = %v, want %v", c.id, got, c.stale)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"a", "dir-a", "Dir_A1", strings.Repeat("z", maxNameLen)} {
		if err := checkName(ok); err != nil {
			t.Errorf("checkName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "_a", "a.b", "a/b", "a b", strings.Repeat("z", maxNameLen+1)} {
		if checkName(bad) == nil {
			t.Errorf("checkName(%q) accepted", bad)
		}
	}
}

func TestSysctlPath(t *testing.T) {
	for key, want := range map[string]string{
		"net.ipv4.ip_forward":                "/proc/sys/net/ipv4/ip_forward",
		"net.ipv4.conf.eth0.arp_ignore":      "/proc/sys/net/ipv4/conf/eth0/arp_ignore",
		"net/ipv4/conf/eth0.100/rp_filter":   "/proc/sys/net/ipv4/conf/eth0.100/rp_filter",
		"net.ipv6.conf.all.disable_ipv6":     "/proc/sys/net/ipv6/conf/all/disable_ipv6",
		"net/ipv4/neigh/default/gc_thresh1":  "/proc/sys/net/ipv4/neigh/default/gc_thresh1",
		"net.ipv4.vs.conntrack":              "/proc/sys/net/ipv4/vs/conntrack",
		"net.core.somaxconn":                 "/proc/sys/net/core/somaxconn",
		"net/ipv4/conf/default/arp_announce": "/proc/sys/net/ipv4/conf/default/arp_announce",
	} {
		got, err := sysctlPath(key)
		if err != nil || got != want {
			t.Errorf("sysctlPath(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	for _, bad := range []string{"kernel.pid_max", "vm.swappiness", "net", "net..ipv4", "net/../kernel/x", "net/ipv4/", "/net/ipv4/ip_forward"} {
		if p, err := sysctlPath(bad); err == nil {
			t.Errorf("sysctlPath(%q) = %q, want error", bad, p)
		}
	}
}

func TestCheckLabAddr(t *testing.T) {
	for _, ok := range []string{"192.0.2.1/24", "198.51.100.7/32", "203.0.113.254/24", "2001:db8::1/64", "fe80::1/64"} {
		if err := checkLabAddr(netip.MustParsePrefix(ok)); err != nil {
			t.Errorf("checkLabAddr(%s): %v", ok, err)
		}
	}
	for _, bad := range []string{"10.0.0.1/8", "192.0.2.1/16", "8.8.8.8/32", "2001:db9::1/64", "127.0.0.1/8"} {
		if checkLabAddr(netip.MustParsePrefix(bad)) == nil {
			t.Errorf("checkLabAddr(%s) accepted", bad)
		}
	}
	if checkLabAddr(netip.Prefix{}) == nil {
		t.Error("checkLabAddr accepted the zero prefix")
	}
}
