package doctor

import (
	"net/netip"
	"time"

	"github.com/lvsd/lvsd/internal/control"
	"github.com/lvsd/lvsd/vrrp"
)

// Host is what doctor reads of the host.
type Host interface {
	// Sysctl reads /proc/sys/<key>; key is slash-separated
	// ("net/ipv4/conf/eth0/rp_filter").
	Sysctl(key string) (string, error)
	// IPVS says whether the kernel has IPVS and, if not, why.
	IPVS() IPVSStatus
	// Links are the interfaces with their addresses.
	Links() ([]Link, error)
	// RouteTo is the interface this host sends to ip by.
	RouteTo(ip netip.Addr) (string, error)
	// DefaultRoutes are the interfaces of the default routes of a family.
	DefaultRoutes(v6 bool) ([]string, error)
	// Ruleset is `nft -j list ruleset`; the error says why it cannot be
	// read (no nft, no permission).
	Ruleset() ([]byte, error)
	// LegacyFilter is the legacy (x_tables) filter table of a family, as
	// iptables-legacy-save prints it; the error says why it cannot be
	// read when the kernel has it.
	LegacyFilter(v6 bool) (LegacyFilter, error)
	// Processes are the pids of the processes named name in this
	// network namespace.
	Processes(name string) ([]int, error)
	// Listen collects the VRRP adverts heard on the interfaces for d.
	Listen(on []ListenOn, d time.Duration) ([]Advert, error)
}

// DaemonStates asks the lvsd answering on the control socket for the
// state of each of its VRRP instances: instance name → "MASTER",
// "BACKUP", "FAULT"… An error means no lvsd answers; one wrapping
// os.ErrPermission means the socket is there but not this user's to ask.
type DaemonStates func(socket string) (map[string]string, error)

// FromDaemon is DaemonStates over the control socket: the state of each
// VRRP instance of the lvsd answering on socket. Its errors keep the dial
// error, so a socket this user may not open is told from no daemon.
func FromDaemon(socket string) (map[string]string, error) {
	reply, err := control.Call(socket, control.Request{Command: control.CmdStatus}, control.CallTimeout)
	if err != nil {
		return nil, err
	}
	states := map[string]string{}
	if reply.Status != nil {
		for _, in := range reply.Status.Instances {
			states[in.Name] = in.State
		}
	}
	return states, nil
}

// IPVSStatus is the kernel's IPVS as doctor sees it.
type IPVSStatus struct {
	Loaded   bool
	Loadable bool   // not loaded, but an ip_vs module is installed
	Kernel   string // release, e.g. 6.1.0-18-amd64
	Detail   string // why it is absent, in the operator's words
}

// Link is one interface.
type Link struct {
	Name     string
	Kind     string // netlink kind: device, veth, ipip, dummy…
	Up       bool   // administratively up
	Carrier  bool   // lower layer up
	Loopback bool
	NoARP    bool
	Addrs    []netip.Prefix
}

// ListenOn is an interface and family to listen for VRRP on.
type ListenOn struct {
	Interface string
	IPv6      bool
}

// Advert is one VRRP advert heard on the wire.
type Advert struct {
	Interface string
	Src       netip.Addr
	TTL       int
	Advert    vrrp.Advert
}

// LegacyFilter is the legacy filter table of one family.
type LegacyFilter struct {
	Loaded bool   // the kernel has the table (ip_tables_names lists filter)
	Save   string // `iptables-legacy-save -t filter`; empty when not loaded
}

// tunnelKinds are the devices that decapsulate IPVS TUN packets.
var tunnelKinds = []string{"ipip", "ip6tnl", "sit", "gre", "ip6gre"}

// allLinks reads the interfaces once per run.
func (d *doctor) allLinks() ([]Link, error) {
	if !d.loaded {
		d.links, d.linksErr = d.host.Links()
		d.loaded = true
	}
	return d.links, d.linksErr
}

func (d *doctor) link(name string) (Link, bool) {
	links, _ := d.allLinks()
	for _, l := range links {
		if l.Name == name {
			return l, true
		}
	}
	return Link{}, false
}

// held is an address on an interface.
type held struct {
	link   Link
	prefix netip.Prefix
}

// holders are the interfaces that have ip, with the prefix it has there.
func (d *doctor) holders(ip netip.Addr) []held {
	links, _ := d.allLinks()
	var out []held
	for _, l := range links {
		for _, p := range l.Addrs {
			if p.Addr().Unmap() == ip {
				out = append(out, held{l, p})
			}
		}
	}
	return out
}

func (d *doctor) isLocal(ip netip.Addr) bool { return len(d.holders(ip)) > 0 }
