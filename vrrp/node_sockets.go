package vrrp

import (
	"cmp"
	"slices"
)

// Sockets reports the counters of every VRRP socket the node has open,
// ordered by interface, IPv4 first: what status and metrics show of the
// packets no instance counts (unknown VRIDs, kernel drops).
func (n *Node) Sockets() []SocketStatus {
	n.sockMu.Lock()
	socks := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		socks = append(socks, s)
	}
	n.sockMu.Unlock()
	out := make([]SocketStatus, 0, len(socks))
	for _, s := range socks { // outside sockMu: Status reads /proc
		out = append(out, s.Status())
	}
	slices.SortFunc(out, func(a, b SocketStatus) int {
		if c := cmp.Compare(a.Interface, b.Interface); c != 0 {
			return c
		}
		return cmp.Compare(b2i(a.IPv6), b2i(b.IPv6))
	})
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
