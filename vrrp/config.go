// Package vrrp implements VRRP v3 (RFC 5798) and v2 (RFC 3768): the packet
// codec, the state machine of one instance, and the Node that supervises
// every instance of a host (sockets shared per interface, track scripts,
// sync groups, interface and address watching, notify scripts). Its OS
// seams are small interfaces (Conn, Addresser, Announcer, Runner, the
// funcs of NodeDeps) with the Linux implementations in _linux.go files
// and fakes in vrrp/vrrptest.
//
// It owns its configuration types, which conf fills; it must not import
// conf, internal/*, healthcheck, ipvs or sync.
package vrrp

import (
	"fmt"
	"net/netip"
	"time"
)

// Version is the VRRP protocol version an instance speaks.
type Version uint8

const (
	V2 Version = 2 // RFC 3768: IPv4 only, whole-second intervals, optional PASS auth
	V3 Version = 3 // RFC 5798: IPv4 and IPv6, centisecond intervals, no auth
)

func (v Version) String() string { return fmt.Sprintf("v%d", uint8(v)) }

// Protocol limits that configuration is validated against.
const (
	OwnerPriority = 255 // the address owner; takes over at once (RFC 5798 §6.4.1)

	// v3 carries Max Adver Int in centiseconds in 12 bits (RFC 5798 §5.2.7).
	MinAdvertIntervalV3 = 10 * time.Millisecond
	MaxAdvertIntervalV3 = 4095 * 10 * time.Millisecond
	AdvertUnitV3        = 10 * time.Millisecond

	// v2 carries Adver Int in whole seconds in 8 bits (RFC 3768 §5.3.7).
	MinAdvertIntervalV2 = time.Second
	MaxAdvertIntervalV2 = 255 * time.Second

	MaxAuthPass = 8 // v2 simple text password: 8 octets (RFC 3768 §5.3.10)
)

// Config is one VRRP instance, as the daemon runs it. Treat it as read-only.
type Config struct {
	Name            string
	Interface       string
	VRID            uint8
	Priority        uint8
	AdvertInterval  time.Duration
	Version         Version
	Preempt         bool
	PreemptDelay    time.Duration
	VIPs            []netip.Prefix // advertised and held while master
	VIPsExcluded    []netip.Prefix // held while master, not advertised
	SourceIP        netip.Addr     // zero: the interface's primary address
	UnicastPeers    []netip.Addr   // empty: multicast 224.0.0.18 / ff02::12
	AuthPass        string         // v2 only; empty: no authentication
	TrackInterfaces []string
	TrackScripts    []string
	GARP            GARP
	Notify          Notify
}

// IPv6 reports whether the instance runs over IPv6 (its VIPs are IPv6).
func (c *Config) IPv6() bool { return len(c.VIPs) > 0 && c.VIPs[0].Addr().Is6() }

// GARP controls gratuitous ARP / unsolicited neighbour advertisements.
type GARP struct {
	Delay   time.Duration // second burst this long after becoming master
	Repeat  int           // announcements per VIP per burst
	Refresh time.Duration // periodic re-announce while master; 0 = off
}

// Notify holds the argv run on each transition; the state and the instance
// name are appended. Empty: nothing runs.
type Notify struct {
	Master, Backup, Fault, Stop []string
}

// TrackScript is a command whose result adjusts the priority of the
// instances that track it (Weight != 0) or puts them in Fault (Weight == 0).
type TrackScript struct {
	Name     string
	Command  []string
	Interval time.Duration
	Timeout  time.Duration
	Weight   int
	Rise     int
	Fall     int
}

// SyncGroup names instances that change state together.
type SyncGroup struct {
	Name      string
	Instances []string
}
