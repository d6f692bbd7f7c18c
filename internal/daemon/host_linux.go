package daemon

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/mdlayher/arp"

	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"

	lvsync "github.com/lvsd/lvsd/sync"
)

// SystemHost is this Linux host: raw VRRP sockets, netlink, the caller's
// IPVS table and sync daemons, gratuitous ARP on the wire, systemd.
func SystemHost() Host {
	h := Host{
		VRRP:     vrrp.SystemDeps(),
		OpenIPVS: func() (ipvs.Kernel, error) { return ipvs.Open("") },
		OpenSync: func() (SyncKernel, error) { return lvsync.OpenKernel("") },
		Observe:  lvsync.Observe,
		Connections: func() (int, error) {
			cs, err := ipvs.Connections("")
			return len(cs), err
		},
		WatchGARPs: watchGARPs,
		Notify: func(state string) error {
			_, err := sd.SdNotify(false, state)
			return err
		},
	}
	if interval, err := sd.SdWatchdogEnabled(false); err == nil {
		h.Watchdog = interval
	}
	return h
}

// garpWatch counts gratuitous ARP for an instance's IPv4 VIPs sent by
// another host during a drill.
type garpWatch struct {
	c      *arp.Client
	own    net.HardwareAddr
	vips   map[netip.Addr]bool
	mu     sync.Mutex
	times  []time.Time
	done   chan struct{}
	closed atomic.Bool
}

func watchGARPs(cfg vrrp.Config) GARPWatch {
	w := &garpWatch{vips: map[netip.Addr]bool{}, done: make(chan struct{})}
	for _, p := range cfg.VIPs {
		if p.Addr().Is4() {
			w.vips[p.Addr()] = true
		}
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err == nil && len(w.vips) > 0 {
		w.own = ifi.HardwareAddr
		w.c, err = arp.Dial(ifi)
	}
	if w.c == nil {
		close(w.done)
		return w
	}
	go func() {
		defer close(w.done)
		for {
			p, _, err := w.c.Read()
			if err != nil {
				// The client's errors do not wrap net.ErrClosed: after
				// close, any error ends the watch.
				if w.closed.Load() || errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			if p.SenderIP == p.TargetIP && w.vips[p.SenderIP] && !bytes.Equal(p.SenderHardwareAddr, w.own) {
				w.mu.Lock()
				w.times = append(w.times, time.Now())
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *garpWatch) Seen(start time.Time) (int, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.times) == 0 {
		return 0, -1
	}
	return len(w.times), w.times[0].Sub(start).Milliseconds()
}

func (w *garpWatch) Close() {
	w.closed.Store(true)
	if w.c != nil {
		w.c.Close()
	}
	<-w.done
}
