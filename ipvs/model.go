package ipvs

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Protocol is the transport protocol of a virtual service (IPPROTO_*).
type Protocol uint16

const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

var protocolNames = map[Protocol]string{TCP: "tcp", UDP: "udp", SCTP: "sctp"}

func (p Protocol) String() string {
	if s, ok := protocolNames[p]; ok {
		return s
	}
	return fmt.Sprintf("proto(%d)", uint16(p))
}

// ParseProtocol maps a configuration name to a Protocol.
func ParseProtocol(s string) (Protocol, error) {
	for p, name := range protocolNames {
		if name == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown protocol %q (want tcp, udp or sctp)", s)
}

// Forwarding is how the director forwards to a real server
// (IP_VS_CONN_F_* in the kernel's destination flags).
type Forwarding uint32

const (
	NAT    Forwarding = 0 // IP_VS_CONN_F_MASQ
	Tunnel Forwarding = 2 // IP_VS_CONN_F_TUNNEL
	Direct Forwarding = 3 // IP_VS_CONN_F_DROUTE
)

var forwardingNames = map[Forwarding]string{NAT: "nat", Tunnel: "tun", Direct: "dr"}

func (f Forwarding) String() string {
	if s, ok := forwardingNames[f]; ok {
		return s
	}
	return fmt.Sprintf("fwd(%d)", uint32(f))
}

// MapsPorts reports whether the method can send to a port other than the
// virtual port: only NAT rewrites the packet; DR and TUN forward it as is.
func (f Forwarding) MapsPorts() bool { return f == NAT }

// ParseForwarding maps a configuration name to a Forwarding method.
func ParseForwarding(s string) (Forwarding, error) {
	for f, name := range forwardingNames {
		if name == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown forwarding method %q (want nat, dr or tun)", s)
}

// Schedulers are the kernel's scheduling modules (ip_vs_<name>).
var Schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}

// KnownScheduler reports whether name is one of Schedulers.
func KnownScheduler(name string) bool { return slices.Contains(Schedulers, name) }

// Flags are the service flags lvsd sets (IP_VS_SVC_F_*). The kernel also
// reports IP_VS_SVC_F_HASHED, which is its own bookkeeping, never ours.
type Flags uint32

const (
	FlagPersistent Flags = 0x0001
	FlagHashed     Flags = 0x0002 // kernel-internal; masked out when reading
	FlagOnePacket  Flags = 0x0004 // ipvsadm -o; lvsd never sets it, only reports and clears it
	FlagSched1     Flags = 0x0008
	FlagSched2     Flags = 0x0010
	FlagSched3     Flags = 0x0020
)

// schedFlagMask holds the bits a scheduler interprets; they are the only
// bits of Service.Flags that lvsd sends.
const schedFlagMask = FlagSched1 | FlagSched2 | FlagSched3

// FlagNames names the bits of f as ipvsadm prints them for scheduler sched
// ("sh-fallback,sh-port"), or "none".
func FlagNames(sched string, f Flags) string {
	var names []string
	for _, b := range []struct {
		flag Flags
		name string
	}{
		{FlagPersistent, "persistent"}, {FlagHashed, "hashed"}, {FlagOnePacket, "one-packet"},
		{FlagSched1, "flag-1"}, {FlagSched2, "flag-2"}, {FlagSched3, "flag-3"},
	} {
		if f&b.flag == 0 {
			continue
		}
		f &^= b.flag
		name := b.name
		for n, sf := range schedFlags {
			if sf.scheduler == sched && sf.flag == b.flag {
				name = n
			}
		}
		names = append(names, name)
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("0x%x", uint32(f)))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// schedFlags names the scheduler flags ipvsadm knows, by scheduler.
var schedFlags = map[string]struct {
	scheduler string
	flag      Flags
}{
	"sh-fallback": {"sh", FlagSched1},
	"sh-port":     {"sh", FlagSched2},
	"mh-fallback": {"mh", FlagSched1},
	"mh-port":     {"mh", FlagSched2},
}

// ParseSchedulerFlag maps a flag name to its bit, checking that it belongs
// to scheduler.
func ParseSchedulerFlag(scheduler, name string) (Flags, error) {
	f, ok := schedFlags[name]
	if !ok {
		return 0, fmt.Errorf("unknown scheduler flag %q (want sh-fallback, sh-port, mh-fallback or mh-port)", name)
	}
	if f.scheduler != scheduler {
		return 0, fmt.Errorf("scheduler flag %q applies to scheduler %q, not %q", name, f.scheduler, scheduler)
	}
	return f.flag, nil
}

// Service is a virtual service: protocol+address+port, or fwmark+family.
type Service struct {
	Address  netip.Addr // zero for fwmark services
	Port     uint16
	Protocol Protocol
	FWMark   uint32
	IPv6     bool // address family; carried separately for fwmark services

	Scheduler string
	Flags     Flags // scheduler flags; FlagPersistent is derived from Persistence
	// Persistence is the persistence timeout; 0 = none.
	Persistence time.Duration
	// PersistenceBits is the client netmask as a prefix length
	// (32/128 = one client).
	PersistenceBits int
}

func (s Service) String() string {
	if s.FWMark != 0 {
		fam := "inet"
		if s.IPv6 {
			fam = "inet6"
		}
		return fmt.Sprintf("fwmark %d/%s", s.FWMark, fam)
	}
	return fmt.Sprintf("%s %s", s.Protocol, netip.AddrPortFrom(s.Address, s.Port))
}

// ServiceKey identifies a service in the kernel: protocol+address+port, or
// fwmark+family. Everything else about a service can be updated in place.
type ServiceKey struct {
	FWMark   uint32
	IPv6     bool
	Protocol Protocol       // zero for fwmark services
	Addr     netip.AddrPort // zero for fwmark services
}

// Key returns the identity of s. An IPv4-mapped address counts as IPv4,
// as it does in the kernel.
func (s Service) Key() ServiceKey {
	if s.FWMark != 0 {
		return ServiceKey{FWMark: s.FWMark, IPv6: s.IPv6}
	}
	a := s.Address.Unmap()
	return ServiceKey{IPv6: a.Is6(), Protocol: s.Protocol, Addr: netip.AddrPortFrom(a, s.Port)}
}

// Compare orders keys: address services by address, port and protocol,
// then fwmark services by mark and family.
func (k ServiceKey) Compare(o ServiceKey) int {
	if (k.FWMark != 0) != (o.FWMark != 0) {
		if k.FWMark == 0 {
			return -1
		}
		return 1
	}
	if c := k.Addr.Compare(o.Addr); c != 0 {
		return c
	}
	if c := cmp.Compare(k.Protocol, o.Protocol); c != 0 {
		return c
	}
	if c := cmp.Compare(k.FWMark, o.FWMark); c != 0 {
		return c
	}
	if k.IPv6 != o.IPv6 {
		if !k.IPv6 {
			return -1
		}
		return 1
	}
	return 0
}

func (k ServiceKey) String() string {
	return Service{FWMark: k.FWMark, IPv6: k.IPv6, Protocol: k.Protocol, Address: k.Addr.Addr(), Port: k.Addr.Port()}.String()
}

// family6 reports whether s is an IPv6 service.
func (s Service) family6() bool { return s.Key().IPv6 }

// Destination is a real server of a service.
type Destination struct {
	Address        netip.Addr
	Port           uint16
	Weight         int
	Forwarding     Forwarding
	UpperThreshold uint32 // 0 = no limit
	LowerThreshold uint32
}

func (d Destination) String() string {
	return d.Key().String()
}

// Key identifies a destination within its service.
func (d Destination) Key() netip.AddrPort {
	return netip.AddrPortFrom(d.Address.Unmap(), d.Port)
}

// Entry is one service with its destinations: a row of the table, as the
// kernel holds it or as lvsd wants it.
type Entry struct {
	Service      Service
	Destinations []Destination
}

// Timeouts are the kernel's global connection timeouts; zero leaves the
// kernel's value alone.
type Timeouts struct {
	TCP, TCPFin, UDP time.Duration
}

func (t Timeouts) String() string {
	return fmt.Sprintf("tcp=%s tcp_fin=%s udp=%s", seconds(t.TCP), seconds(t.TCPFin), seconds(t.UDP))
}

// seconds formats a kernel timeout the way ipvsadm does: whole seconds.
func seconds(d time.Duration) string { return fmt.Sprintf("%ds", ceilSeconds(d)) }

// ceilSeconds rounds up to whole seconds, the kernel's unit for timeouts, so
// that a positive duration never becomes zero ("off").
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
