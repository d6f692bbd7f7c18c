package vrrp

import (
	"context"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
)

// addrResubscribe bounds the wait before the address watch subscribes
// again after the kernel ended its subscription (ENOBUFS: more changes
// than the socket buffer held).
const (
	addrResubscribeMin = 100 * time.Millisecond
	addrResubscribeMax = 5 * time.Second
)

// WatchAddresses reports that the addresses of a named interface changed
// (rtnetlink RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR): once for each
// at start, then after each change, until ctx ends. Changes that come
// together are reported once. A subscription the kernel ends is made
// again, and every interface reported, since changes may have been lost.
// It returns at once with an error if it cannot subscribe at all.
func WatchAddresses(ctx context.Context, names []string, changed func(name string)) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	updates, stop, err := subscribeAddrs()
	if err != nil {
		return fmt.Errorf("watching addresses: %w", err)
	}
	defer func() { stop() }()
	for _, n := range names {
		changed(n)
	}
	wait := addrResubscribeMin
	for {
		select {
		case <-ctx.Done():
			return nil
		case u, ok := <-updates:
			if !ok {
				stop()
				u2, stop2, err := resubscribeAddrs(ctx, &wait)
				if err != nil {
					return nil // ctx ended
				}
				updates, stop = u2, stop2
				for _, n := range names {
					changed(n)
				}
				continue
			}
			wait = addrResubscribeMin
			hit := map[string]bool{}
			addrTouches(u, want, hit)
			// Take what else is queued, at most a queue's worth: a
			// renumbering or a flush is many messages, and one read of
			// the interface answers them all.
			for range cap(updates) {
				u, ok := takeQueued(updates)
				if !ok {
					break
				}
				addrTouches(u, want, hit)
			}
			for _, n := range names {
				if hit[n] {
					changed(n)
				}
			}
		}
	}
}

// takeQueued returns an update already queued, if there is one; a closed
// subscription is seen at the next receive of the loop.
func takeQueued(updates <-chan netlink.AddrUpdate) (netlink.AddrUpdate, bool) {
	select {
	case u, ok := <-updates:
		return u, ok
	default:
		return netlink.AddrUpdate{}, false
	}
}

// addrTouches marks the watched interface an update is about. An index
// that no longer resolves (the link is gone) marks them all.
func addrTouches(u netlink.AddrUpdate, want, hit map[string]bool) {
	link, err := netlink.LinkByIndex(u.LinkIndex)
	if err != nil {
		for n := range want {
			hit[n] = true
		}
		return
	}
	if name := link.Attrs().Name; want[name] {
		hit[name] = true
	}
}

// subscribeAddrs subscribes to address changes; stop ends the
// subscription and lets its goroutine finish (it may be blocked handing
// over an update nobody reads any more).
func subscribeAddrs() (<-chan netlink.AddrUpdate, func(), error) {
	updates := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	if err := netlink.AddrSubscribeWithOptions(updates, done, netlink.AddrSubscribeOptions{}); err != nil {
		return nil, nil, err
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		close(done)
		go func() {
			for range updates { // closed once the subscription's goroutine ends
			}
		}()
	}
	return updates, stop, nil
}

// resubscribeAddrs subscribes again, waiting *wait (doubled each failure,
// up to addrResubscribeMax) before each try, until ctx ends.
func resubscribeAddrs(ctx context.Context, wait *time.Duration) (<-chan netlink.AddrUpdate, func(), error) {
	for {
		t := time.NewTimer(*wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
		*wait = min(2**wait, addrResubscribeMax)
		if updates, stop, err := subscribeAddrs(); err == nil {
			return updates, stop, nil
		}
	}
}
