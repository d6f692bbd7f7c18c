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
	conn  net.PacketConn
	stats *Stats
	now   func() time.Time

	closeOnce stdsync.Once
	closeErr  error
}

// ObserverSnapshot is the observer's counters with where it listens.
type ObserverSnapshot struct {
	Interface string
	Group     netip.Addr
	Port      uint16
	StatsSnapshot
}

// newObserver observes the datagrams arriving on conn.
func newObserver(cfg Config, conn net.PacketConn) *Observer {
	return &Observer{cfg: cfg, conn: conn, stats: NewStats(), now: time.Now}
}

// Run reads and counts datagrams until ctx ends or Close is called, which
// are not errors. each, if not nil, sees every datagram's decoding (m is
// empty when err is set), in the reading goroutine.
func (o *Observer) Run(ctx context.Context, each func(from netip.Addr, m Message, err error)) error {
	stop := context.AfterFunc(ctx, func() { o.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 1<<16) // any UDP datagram: sync_maxlen is at most 65535 - headers
	for {
		n, addr, err := o.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("sync: observe %s: %w", o.where(), err)
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
	return ObserverSnapshot{Interface: o.cfg.Interface, Group: o.cfg.Group, Port: o.cfg.Port, StatsSnapshot: o.stats.Snapshot()}
}

// Close leaves the group and ends Run.
func (o *Observer) Close() error {
	o.closeOnce.Do(func() { o.closeErr = o.conn.Close() })
	return o.closeErr
}

func (o *Observer) where() string {
	return fmt.Sprintf("%s port %d on %s", o.cfg.Group, o.cfg.Port, o.cfg.Interface)
}
