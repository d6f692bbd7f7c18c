// Package sync drives the kernel's IPVS connection synchronisation daemon
// over generic netlink and observes the sync traffic it sends.
package sync

import "net/netip"

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
