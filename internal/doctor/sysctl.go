package doctor

import (
	"fmt"
	"strconv"
	"strings"
)

// sysctlName is the name of a sysctl as `sysctl -w` takes it: dotted,
// unless a component (an interface name like eth0.5) has a dot itself.
func sysctlName(key string) string {
	parts := strings.Split(key, "/")
	for _, p := range parts {
		if strings.Contains(p, ".") {
			return key
		}
	}
	return strings.Join(parts, ".")
}

func confKey(family, iface, name string) string {
	return "net/" + family + "/conf/" + iface + "/" + name
}

// sysctlInt reads an integer sysctl.
func (d *doctor) sysctlInt(key string) (int, error) {
	s, err := d.host.Sysctl(key)
	if err != nil {
		return 0, fmt.Errorf("cannot read %s: %w", sysctlName(key), err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("cannot read %s: %q is not a number", sysctlName(key), s)
	}
	return n, nil
}

// ifaceConf is an IPv4 per-interface setting: the value of "all", of the
// interface, and the effective one, which for rp_filter, arp_ignore and
// arp_announce is the larger of the two.
type ifaceConf struct {
	name      string // rp_filter…
	iface     string
	all, dev  int
	effective int
}

func (d *doctor) confMax(name, iface string) (ifaceConf, error) {
	all, err := d.sysctlInt(confKey("ipv4", "all", name))
	if err != nil {
		return ifaceConf{}, err
	}
	dev, err := d.sysctlInt(confKey("ipv4", iface, name))
	if err != nil {
		return ifaceConf{}, err
	}
	return ifaceConf{name: name, iface: iface, all: all, dev: dev, effective: max(all, dev)}, nil
}

// explain says the effective value and where it comes from; label
// names the value ("strict").
func (c ifaceConf) explain(label string) string {
	if label != "" {
		label += ": "
	}
	return fmt.Sprintf("%s on %s is %d (%sthe larger of all=%d and %s=%d)", c.name, c.iface, c.effective, label, c.all, c.iface, c.dev)
}

// sysctlFix is `sysctl -w k=v …` for the keys in order.
func sysctlFix(kv ...string) string {
	var b strings.Builder
	b.WriteString("sysctl -w")
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %s=%s", sysctlName(kv[i]), kv[i+1])
	}
	return b.String()
}

// rpFilterFix turns strict rp_filter (1) loose (2) where it is set.
func rpFilterFix(c ifaceConf) string {
	var kv []string
	if c.all == 1 {
		kv = append(kv, confKey("ipv4", "all", "rp_filter"), "2")
	}
	if c.dev == 1 {
		kv = append(kv, confKey("ipv4", c.iface, "rp_filter"), "2")
	}
	return sysctlFix(kv...)
}
