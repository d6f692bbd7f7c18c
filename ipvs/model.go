// Package ipvs models the kernel's IPVS table as desired state and
// reconciles the kernel towards it by difference.
package ipvs

import (
	"fmt"
	"net/netip"
	"slices"
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
	FlagSched1     Flags = 0x0008
	FlagSched2     Flags = 0x0010
	FlagSched3     Flags = 0x0020
)

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
	return netip.AddrPortFrom(d.Address, d.Port).String()
}

// Timeouts are the kernel's global connection timeouts; zero leaves the
// kernel's value alone.
type Timeouts struct {
	TCP, TCPFin, UDP time.Duration
}
