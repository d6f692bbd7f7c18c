package lab

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mdlayher/arp"
)

// ARPWatch records every gratuitous ARP (sender = target) seen on a
// host's interface, with the time it was seen.
type ARPWatch struct {
	mu     sync.Mutex
	events []GARP
}

// GARP is one gratuitous ARP seen.
type GARP struct {
	At  time.Time
	IP  netip.Addr
	MAC net.HardwareAddr
}

// WatchARP starts recording on ifname of h until the test ends.
func (h *Host) WatchARP(t testing.TB, ifname string) *ARPWatch {
	t.Helper()
	w := &ARPWatch{}
	var c *arp.Client
	err := h.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		c, err = arp.Dial(ifi)
		return err
	})
	if err != nil {
		t.Fatalf("lab: ARP watch on %s/%s: %v", h.name, ifname, err)
	}
	done := make(chan struct{})
	var closed atomic.Bool
	go func() {
		defer close(done)
		for {
			p, _, err := c.Read()
			if err != nil {
				// The client's errors do not wrap net.ErrClosed: after
				// Close, any error ends the watch.
				if closed.Load() || errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			if p.SenderIP == p.TargetIP {
				w.mu.Lock()
				w.events = append(w.events, GARP{time.Now(), p.SenderIP, slices.Clone(p.SenderHardwareAddr)})
				w.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { closed.Store(true); c.Close(); <-done })
	return w
}

// First returns the first GARP for ip from mac at or after t0.
func (w *ARPWatch) First(t0 time.Time, ip netip.Addr, mac net.HardwareAddr) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.events {
		if !e.At.Before(t0) && e.IP == ip && (mac == nil || bytes.Equal(e.MAC, mac)) {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// Count returns how many GARPs for ip (from any MAC) were seen at or
// after t0.
func (w *ARPWatch) Count(t0 time.Time, ip netip.Addr) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.events {
		if !e.At.Before(t0) && e.IP == ip {
			n++
		}
	}
	return n
}
