package vrrp

import (
	"context"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// SystemDeps are the real seams of a Node on this host: raw sockets,
// the interface's primary address, rtnetlink for link states, addresses and VIPs,
// gratuitous ARP and neighbour advertisements. The caller adds Runner,
// Log and OnEvent.
func SystemDeps() NodeDeps {
	return NodeDeps{
		OpenConn:        OpenRawConn,
		Source:          PrimaryAddress,
		WatchInterfaces: WatchInterfaces,
		WatchAddresses:  WatchAddresses,
		Addresser:       Netlink{},
		Announcer:       &LinkAnnouncer{},
	}
}

// WatchInterfaces reports the link state of the named interfaces: once at
// start, then on every change, until ctx ends. An interface is up when it
// is administratively up and has carrier (IFF_UP and IFF_RUNNING).
func WatchInterfaces(ctx context.Context, names []string, report func(name string, up bool)) error {
	updates := make(chan netlink.LinkUpdate, 16)
	done := make(chan struct{})
	defer close(done) // ends the subscription
	if err := netlink.LinkSubscribe(updates, done); err != nil {
		return fmt.Errorf("watching interfaces: %w", err)
	}
	want := map[string]bool{}
	last := map[string]bool{}
	for _, n := range names {
		want[n] = true
		link, err := netlink.LinkByName(n)
		up := err == nil && linkUp(link.Attrs().RawFlags)
		last[n] = up
		report(n, up)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case u, ok := <-updates:
			if !ok {
				return fmt.Errorf("watching interfaces: the netlink subscription ended")
			}
			name := u.Attrs().Name
			if !want[name] {
				continue
			}
			up := u.Header.Type != unix.RTM_DELLINK && linkUp(u.Attrs().RawFlags)
			if up != last[name] {
				last[name] = up
				report(name, up)
			}
		}
	}
}

// linkUp reads the kernel's interface flags (not net.Flags, whose bits
// are Go's own).
func linkUp(flags uint32) bool {
	return flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING != 0
}
