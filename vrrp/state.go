package vrrp

import (
	"net/netip"
	"time"
)

// State is an instance's VRRP state (RFC 5798 §6.4) plus Fault, where a
// tracked interface or script holds it out of the election.
type State uint8

const (
	Initialize State = iota
	Backup
	Master
	Fault
)

var stateNames = [...]string{Initialize: "INIT", Backup: "BACKUP", Master: "MASTER", Fault: "FAULT"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// Event is one transition, with its cause.
type Event struct {
	Instance string
	VRID     uint8
	From, To State
	Cause    string
	At       time.Time
}

// Skew is Skew_Time: how much sooner a higher priority backup declares
// the master down (RFC 5798 §6.1; RFC 3768 §6.1 for v2, which has no
// interval term).
func Skew(v Version, priority uint8, masterAdverInt time.Duration) time.Duration {
	if v == V2 {
		return time.Duration(256-int(priority)) * time.Second / 256
	}
	return time.Duration(256-int(priority)) * masterAdverInt / 256
}

// MasterDown is Master_Down_Interval: 3 × Master_Adver_Interval + Skew_Time.
func MasterDown(v Version, priority uint8, masterAdverInt time.Duration) time.Duration {
	return 3*masterAdverInt + Skew(v, priority, masterAdverInt)
}

// Packet is a received VRRP packet with what the IP header said of it.
type Packet struct {
	Src, Dst netip.Addr
	TTL      int // TTL or hop limit
	Data     []byte
}

// Transport sends an instance's adverts: to the multicast group, or once
// per unicast peer (each with its own checksum).
type Transport interface {
	Send(a *Advert) error
}

// Addresser adds and removes the VIPs on the instance's interface, and
// says what the interface holds. Add and remove are idempotent: adding a
// present address or removing an absent one is not an error. Addrs lists
// every address of the interface now (none, and no error, for an
// interface that does not exist); a read that may be incomplete is an
// error, never a shorter list, since a missing VIP makes a master hand
// over.
type Addresser interface {
	AddVIPs(iface string, vips []netip.Prefix) error
	RemoveVIPs(iface string, vips []netip.Prefix) error
	Addrs(iface string) ([]netip.Addr, error)
}

// Announcer announces VIPs on the link: gratuitous ARP for IPv4,
// unsolicited neighbour advertisements for IPv6.
type Announcer interface {
	Announce(iface string, ips []netip.Addr) error
}
