package sync

import (
	"fmt"
	"net/netip"
)

// Defaults of the kernel's sync daemon that lvsd also uses.
var DefaultGroup = netip.MustParseAddr("224.0.0.81")

const (
	DefaultPort = 8848
	DefaultTTL  = 1
	// DefaultMaxLen fits one sync message in an Ethernet frame:
	// 1500 - 20 (IPv4) - 8 (UDP).
	DefaultMaxLen = 1472
	MinMaxLen     = 128
	MaxMaxLen     = 65507
)

// Config is the parameters of one kernel sync daemon (master or backup).
type Config struct {
	Interface string
	SyncID    uint8 // 0 on a backup accepts every sync id
	Group     netip.Addr
	Port      uint16
	TTL       uint8
	MaxLen    uint16
}

// Header lengths the kernel subtracts from an MTU and from the 64 KiB UDP
// limit when it sizes sync messages (start_sync_thread, ip_vs_sync.c).
const (
	hlen4 = 20 + 8 // struct iphdr + struct udphdr
	hlen6 = 40 + 8 // struct ipv6hdr + struct udphdr
)

// ifNameMax is IP_VS_IFNAME_MAXLEN (16) less the terminating NUL: the
// kernel copies MCAST_IFN with strscpy into a 16-byte buffer.
const ifNameMax = 15

// WithDefaults returns c with every zero parameter (group, port, TTL,
// maximum length) set to lvsd's default. The interface and sync id have no
// default here.
func (c Config) WithDefaults() Config {
	if !c.Group.IsValid() {
		c.Group = DefaultGroup
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.MaxLen == 0 {
		c.MaxLen = DefaultMaxLen
	}
	return c
}

// Validate reports the parameters the kernel would refuse. Zero values
// are valid: the kernel fills them in (see Effective).
func (c Config) Validate() error {
	switch {
	case c.Interface == "":
		return fmt.Errorf("%w: no interface", ErrInvalidConfig)
	case len(c.Interface) > ifNameMax:
		return fmt.Errorf("%w: interface name %q is longer than %d bytes", ErrInvalidConfig, c.Interface, ifNameMax)
	case c.Group.IsValid() && (c.Group.Is4In6() || c.Group.Zone() != ""):
		return fmt.Errorf("%w: group %s: want a plain IPv4 or IPv6 address", ErrInvalidConfig, c.Group)
	case c.Group.IsValid() && !c.Group.IsMulticast():
		// ip_vs_genl_new_daemon answers EINVAL.
		return fmt.Errorf("%w: group %s is not a multicast address", ErrInvalidConfig, c.Group)
	}
	return nil
}

// Effective returns the parameters the kernel reports (IPVS_CMD_GET_DAEMON)
// for a daemon of state s started with c, following start_sync_thread in
// net/netfilter/ipvs/ip_vs_sync.c: zero group, port and TTL become
// 224.0.0.81, 8848 and 1; a zero MaxLen becomes the MTU less the IP and
// UDP headers, taking the MTU as 1500 (exact for a master; a backup uses
// the interface MTU when it is larger); a set MaxLen is clamped to
// [1, 65535-headers] for a master and [1024, 65535-headers] for a backup.
func (c Config) Effective(s State) Config {
	if !c.Group.IsValid() {
		c.Group = DefaultGroup
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.TTL == 0 {
		c.TTL = 1
	}
	hlen := hlen4
	if c.Group.Is6() {
		hlen = hlen6
	}
	if c.MaxLen == 0 {
		c.MaxLen = uint16(1500 - hlen)
	} else {
		lo := 1
		if s == Backup {
			lo = 1024
		}
		c.MaxLen = uint16(min(max(int(c.MaxLen), lo), 65535-hlen))
	}
	return c
}

// String renders c the way "ipvsadm -L --daemon" does, after the state:
// "mcast=eth0, syncid=51, maxlen=1472, group=224.0.0.81, port=8848, ttl=1".
func (c Config) String() string {
	return fmt.Sprintf("mcast=%s, syncid=%d, maxlen=%d, group=%s, port=%d, ttl=%d",
		c.Interface, c.SyncID, c.MaxLen, c.Group, c.Port, c.TTL)
}
