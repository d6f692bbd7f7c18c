package sync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	stdsync "sync"
	"time"
)

// Observer listens to the sync group beside (or instead of) the kernel's
// backup daemon and counts what each master sends: messages, connection
// entries, decode errors by kind, last seen. It never writes to the
// kernel; it answers "is the peer syncing, and what" for status and
// metrics. It sees the peers only: the local master daemon's socket does
// not loop its datagrams back (set_mcast_loop(sk, 0) in ip_vs_sync.c).
type Observer struct {
	cfg   Config
	conns []net.PacketConn // one per sync port: cfg.Port, cfg.Port+1, ...
	stats *Stats
	now   func() time.Time

	closeOnce stdsync.Once
	closeErr  error
}

// ObserverSnapshot is the observer's counters with where it listens.
type ObserverSnapshot struct {
	Interface string
	Group     netip.Addr
	Port      uint16 // the first port
	Ports     int    // how many: the kernel's sync_ports
	StatsSnapshot
}

// newObserver observes the datagrams arriving on conns, those of ports
// cfg.Port, cfg.Port+1, ... in order.
func newObserver(cfg Config, conns ...net.PacketConn) *Observer {
	return &Observer{cfg: cfg, conns: conns, stats: NewStats(), now: time.Now}
}

// Run reads and counts datagrams until ctx ends or Close is called, which
// are not errors. each, if not nil, sees every datagram's decoding (m is
// empty when err is set), from the reading goroutines, one per port:
// concurrently when there are several.
func (o *Observer) Run(ctx context.Context, each func(from netip.Addr, m Message, err error)) error {
	errs := make(chan error, len(o.conns))
	for i, c := range o.conns {
		go func() { errs <- o.read(ctx, c, o.cfg.Port+uint16(i), each) }()
	}
	var first error
	for range o.conns {
		if err := <-errs; err != nil && first == nil {
			first = err
			o.Close() // one port failing ends the others: Run reports it
		}
	}
	return first
}

func (o *Observer) read(ctx context.Context, c net.PacketConn, port uint16, each func(netip.Addr, Message, error)) error {
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 1<<16) // any UDP datagram: sync_maxlen is at most 65535 - headers
	for {
		n, addr, err := c.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("sync: observe %s port %d on %s: %w", o.cfg.Group, port, o.cfg.Interface, err)
		}
		var from netip.Addr
		if ua, ok := addr.(*net.UDPAddr); ok {
			from = ua.AddrPort().Addr()
		}
		m, derr := o.stats.Record(from, buf[:n], o.now())
		if each != nil {
			each(from.Unmap().WithZone(""), m, derr)
		}
	}
}

// Snapshot copies the counters.
func (o *Observer) Snapshot() ObserverSnapshot {
	return ObserverSnapshot{Interface: o.cfg.Interface, Group: o.cfg.Group, Port: o.cfg.Port, Ports: len(o.conns), StatsSnapshot: o.stats.Snapshot()}
}

// Close leaves the group and ends Run.
func (o *Observer) Close() error {
	o.closeOnce.Do(func() {
		var errs []error
		for _, c := range o.conns {
			errs = append(errs, c.Close())
		}
		o.closeErr = errors.Join(errs...)
	})
	return o.closeErr
}
