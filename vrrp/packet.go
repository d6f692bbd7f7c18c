package vrrp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// IPProto is VRRP's IP protocol number (RFC 5798 §5.2.4).
const IPProto = 112

// TTL is the only TTL/hop limit a VRRP packet may carry: it proves the
// sender is on the link (RFC 5798 §5.1.1.3, §5.1.2.3).
const TTL = 255

// Multicast groups adverts are sent to (RFC 5798 §5.1.1.2, §5.1.2.2).
var (
	GroupIPv4 = netip.MustParseAddr("224.0.0.18")
	GroupIPv6 = netip.MustParseAddr("ff02::12")
)

// AuthType is the v2 authentication type (RFC 3768 §5.3.6; type 1 is
// RFC 2338's simple text password).
type AuthType uint8

const (
	AuthNone AuthType = 0
	AuthPass AuthType = 1
)

const (
	headerLen   = 8
	authDataLen = 8 // v2 only
	typeAdvert  = 1
)

// Advert is one VRRP advertisement.
type Advert struct {
	Version  Version
	VRID     uint8
	Priority uint8
	// Interval is Max Adver Int (v3, centiseconds) or Adver Int (v2,
	// seconds).
	Interval time.Duration
	AuthType AuthType // v2 only
	AuthData [authDataLen]byte
	Addrs    []netip.Addr
}

// DropReason says why a received packet was not accepted. The values are
// stable: status and metrics count drops under them.
type DropReason string

const (
	DropShort     DropReason = "short"         // shorter than its header says
	DropLength    DropReason = "length"        // address count does not match the length
	DropVersion   DropReason = "version"       // not the instance's version
	DropType      DropReason = "type"          // not an advertisement
	DropChecksum  DropReason = "checksum"      // bad checksum
	DropTTL       DropReason = "ttl"           // TTL/hop limit not 255: not from this link
	DropVRID      DropReason = "vrid"          // another virtual router's
	DropAuth      DropReason = "auth"          // v2 authentication mismatch
	DropInterval  DropReason = "interval"      // v2 interval differs from ours (RFC 3768 §7.1)
	DropFamily    DropReason = "family"        // address family not the instance's
	DropAddress   DropReason = "address"       // invalid address in the packet
	DropUnknownIP DropReason = "unknown_peer"  // unicast advert from a source not in unicast_peers
	DropOwnPacket DropReason = "own_advert"    // our own advert looped back
	DropZeroIntvl DropReason = "zero_interval" // an interval of 0 would stall master_down
)

// DropError is a packet refused with its reason.
type DropError struct {
	Reason DropReason
	Detail string
}

func (e *DropError) Error() string { return string(e.Reason) + ": " + e.Detail }

func drop(r DropReason, format string, args ...any) error {
	return &DropError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// MaxAdvertAddrs is the most addresses an advert can list: its Count IPvX
// Addr field is 8 bits (RFC 5798 §5.2.5, RFC 3768 §5.3.5).
const MaxAdvertAddrs = 255

// MaxIPPacket is the largest IP packet (the 16-bit Total Length of IPv4;
// an IPv6 payload without a jumbogram has the same bound).
const MaxIPPacket = 65535

// IP header lengths of an advert: IPv4 without options, IPv6 without
// extension headers (RFC 5798 §5.1).
const (
	ipv4HeaderLen = 20
	ipv6HeaderLen = 40
)

// AdvertAddrLimit is how many addresses an advert of version v can list
// in an IP packet of at most maxPacket bytes (the interface's MTU: an
// advert is never fragmented), and never more than MaxAdvertAddrs. As
// keepalived does, an instance with more VIPs holds all of them but lists
// only the first AdvertAddrLimit: the list is informative (RFC 5798 §7.1:
// a receiver MAY compare it with its own and then only logs a mismatch;
// lvsd does not compare it), the election does not depend on it.
func AdvertAddrLimit(v Version, v6 bool, maxPacket int) int {
	if maxPacket <= 0 || maxPacket > MaxIPPacket {
		maxPacket = MaxIPPacket
	}
	room, alen := maxPacket-ipv4HeaderLen-headerLen, 4
	if v6 {
		room, alen = maxPacket-ipv6HeaderLen-headerLen, 16
	}
	if v == V2 {
		room -= authDataLen
	}
	return max(0, min(MaxAdvertAddrs, room/alen))
}

// Marshal encodes a for sending from src to dst. The addresses matter to
// the v3 checksum, which covers the IP pseudo-header (RFC 5798 §5.2.8): a
// unicast advert is encoded once per peer. It lists at most the first
// AdvertAddrLimit(…, MaxIPPacket) addresses; MarshalFit fits an MTU.
func (a *Advert) Marshal(src, dst netip.Addr) ([]byte, error) {
	return a.MarshalFit(src, dst, MaxIPPacket)
}

// MarshalFit is Marshal listing only the first addresses that fit in an
// IP packet of maxPacket bytes (AdvertAddrLimit).
func (a *Advert) MarshalFit(src, dst netip.Addr, maxPacket int) ([]byte, error) {
	alen := 4
	if src.Is6() {
		alen = 16
	}
	addrs := a.Addrs[:min(len(a.Addrs), AdvertAddrLimit(a.Version, src.Is6(), maxPacket))]
	n := headerLen + alen*len(addrs)
	if a.Version == V2 {
		if src.Is6() {
			return nil, fmt.Errorf("vrrp: v2 is IPv4 only")
		}
		n += authDataLen
	}
	b := make([]byte, n)
	b[0] = byte(a.Version)<<4 | typeAdvert
	b[1] = a.VRID
	b[2] = a.Priority
	b[3] = byte(len(addrs))
	switch a.Version {
	case V2:
		secs := a.Interval / time.Second
		if secs < 1 || secs > 255 || a.Interval%time.Second != 0 {
			return nil, fmt.Errorf("vrrp: v2 interval %s is not 1..255 whole seconds", a.Interval)
		}
		b[4] = byte(a.AuthType)
		b[5] = byte(secs)
	case V3:
		cs := a.Interval / AdvertUnitV3
		if cs < 1 || cs > 0xfff {
			return nil, fmt.Errorf("vrrp: v3 interval %s is not 10ms..40.95s", a.Interval)
		}
		binary.BigEndian.PutUint16(b[4:], uint16(cs))
	default:
		return nil, fmt.Errorf("vrrp: unknown version %d", a.Version)
	}
	off := headerLen
	for _, ip := range addrs {
		if ip.Is6() != src.Is6() || ip.Is4In6() {
			return nil, fmt.Errorf("vrrp: address %s is not of the sender's family", ip)
		}
		off += copy(b[off:], ip.AsSlice())
	}
	if a.Version == V2 {
		copy(b[off:], a.AuthData[:])
	}
	binary.BigEndian.PutUint16(b[6:], checksum(a.Version, b, src, dst))
	return b, nil
}

// ParseAdvert decodes and validates an advert received from src to dst.
// It checks what the packet says of itself (version, type, length,
// checksum); the instance checks what it must agree with (VRID, auth, TTL).
func ParseAdvert(b []byte, src, dst netip.Addr) (Advert, error) {
	var a Advert
	if len(b) < headerLen {
		return a, drop(DropShort, "%d bytes, an advert has at least %d", len(b), headerLen)
	}
	a.Version = Version(b[0] >> 4)
	if a.Version != V2 && a.Version != V3 {
		return a, drop(DropVersion, "version %d, want 2 or 3", a.Version)
	}
	if t := b[0] & 0x0f; t != typeAdvert {
		return a, drop(DropType, "type %d, want 1 (advertisement)", t)
	}
	if a.Version == V2 && src.Is6() {
		return a, drop(DropVersion, "v2 advert over IPv6")
	}
	a.VRID = b[1]
	if a.VRID == 0 {
		return a, drop(DropVRID, "VRID 0 is invalid")
	}
	a.Priority = b[2]
	count := int(b[3])
	alen := 4
	if src.Is6() {
		alen = 16
	}
	want := headerLen + alen*count
	if a.Version == V2 {
		want += authDataLen
	}
	if len(b) != want {
		return a, drop(DropLength, "%d addresses make %d bytes, the packet has %d", count, want, len(b))
	}
	if got, want := binary.BigEndian.Uint16(b[6:]), checksum(a.Version, b, src, dst); got != want {
		return a, drop(DropChecksum, "checksum %#04x, computed %#04x", got, want)
	}
	switch a.Version {
	case V2:
		a.AuthType = AuthType(b[4])
		a.Interval = time.Duration(b[5]) * time.Second
		copy(a.AuthData[:], b[want-authDataLen:])
	case V3:
		// The top 4 bits are reserved: ignored on receipt (RFC 5798 §5.2.6).
		a.Interval = time.Duration(binary.BigEndian.Uint16(b[4:])&0x0fff) * AdvertUnitV3
	}
	if a.Interval == 0 {
		return a, drop(DropZeroIntvl, "advert interval 0")
	}
	a.Addrs = make([]netip.Addr, count)
	for i := range count {
		ip, _ := netip.AddrFromSlice(b[headerLen+i*alen : headerLen+(i+1)*alen])
		a.Addrs[i] = ip
	}
	return a, nil
}

// checksum is the Internet checksum (RFC 1071) of the advert with its
// checksum field taken as zero; for v3 it also covers the IPv4 or IPv6
// pseudo-header (RFC 5798 §5.2.8). v2 covers the VRRP message only
// (RFC 3768 §5.3.8).
func checksum(v Version, b []byte, src, dst netip.Addr) uint16 {
	var sum uint32
	if v == V3 {
		sum += sumBytes(src.AsSlice())
		sum += sumBytes(dst.AsSlice())
		sum += IPProto
		sum += uint32(len(b)) // IPv4: 16-bit length; IPv6: 32-bit, same sum here
	}
	sum += sumBytes(b[:6])
	sum += sumBytes(b[8:])
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func sumBytes(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}
