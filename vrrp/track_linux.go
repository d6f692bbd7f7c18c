package vrrp

import (
	"context"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// WatchInterfaces reports the link state of the named interfaces: once at
// start, then on every change, until ctx ends. An interface is up when it
// is administratively up and has carrier (IFF_UP and IFF_RUNNING).
func WatchInterfaces(ctx context.Context, names []string, report func(name string, up bool)) error {
	updates := make(chan netlink.LinkUpdate, 16)
	done := make(chan struct{})
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
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-updates:
				if !ok {
					return
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
	}()
	return nil
}

// linkUp reads the kernel's interface flags (not net.Flags, whose bits
// are Go's own).
func linkUp(flags uint32) bool {
	return flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING != 0
}
