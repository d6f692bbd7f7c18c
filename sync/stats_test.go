package sync

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

var timeZero = time.Unix(0, 0)

func TestStatsCounts(t *testing.T) {
	s := NewStats()
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("::ffff:192.0.2.2")
	msg := kernelMessage() // 2 connections and a template
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if _, err := s.Record(a, msg, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Record(b, []byte{1, 2, 3}, t0); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage: %v", err)
	}
	if _, err := s.Record(a, msg[:20], t0.Add(time.Hour)); err == nil {
		t.Error("truncated: no error")
	}
	snap := s.Snapshot()
	if len(snap.Peers) != 2 {
		t.Fatalf("peers %+v", snap.Peers)
	}
	pa, pb := snap.Peers[0], snap.Peers[1]
	want := PeerStats{Addr: a, SyncID: 51, Datagrams: 4, Bytes: 3*uint64(len(msg)) + 20, Messages: 3, Conns: 6, Templates: 3,
		Errors: 1, FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	if pa != want {
		t.Errorf("peer a %+v\nwant   %+v", pa, want)
	}
	if pb.Addr != b.Unmap() || pb.Datagrams != 1 || pb.Errors != 1 || pb.Messages != 0 {
		t.Errorf("peer b %+v (a v4-mapped source is the IPv4 peer)", pb)
	}
	if snap.Errors[KindShort] != 1 || snap.Errors[KindSize] != 1 || len(snap.Errors) != 2 {
		t.Errorf("errors by kind %v, want short 1 and size 1", snap.Errors)
	}
	if tot := snap.Totals(); tot.Conns != 6 || tot.Errors != 2 || tot.Datagrams != 5 {
		t.Errorf("totals %+v", tot)
	}
}

func TestStatsBoundsPeers(t *testing.T) {
	s := NewStats()
	base := netip.MustParseAddr("198.51.100.0")
	for range MaxPeers + 10 {
		base = base.Next()
		s.Record(base, []byte{0}, timeZero)
	}
	snap := s.Snapshot()
	if len(snap.Peers) != MaxPeers || snap.OtherDatagrams != 10 || snap.Errors[KindShort] != MaxPeers+10 {
		t.Errorf("%d peers, %d other, errors %v", len(snap.Peers), snap.OtherDatagrams, snap.Errors)
	}
}

// TestObserverRun feeds an Observer over a loopback UDP socket: the
// counting and the callback see every datagram, a malformed one does not
// stop it, and cancelling the context ends Run without error.
func TestObserverRun(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := newObserver(Config{Interface: "lo", Group: DefaultGroup, Port: 8848}, pc)
	defer o.Close()
	seen := make(chan error, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- o.Run(ctx, func(from netip.Addr, m Message, err error) {
			if err == nil && (from != netip.MustParseAddr("127.0.0.1") || len(m.Conns) != 3) {
				err = errors.New("bad callback arguments")
			}
			seen <- err
		})
	}()
	tx, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	for _, b := range [][]byte{kernelMessage(), {0xff}, kernelMessage()} {
		if _, err := tx.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	for i, wantErr := range []bool{false, true, false} {
		select {
		case err := <-seen:
			if (err != nil) != wantErr {
				t.Errorf("datagram %d: %v", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("datagram %d not seen", i)
		}
	}
	snap := o.Snapshot()
	if tot := snap.Totals(); tot.Messages != 2 || tot.Conns != 4 || tot.Templates != 2 || snap.Errors[KindShort] != 1 ||
		snap.Interface != "lo" || snap.Port != 8848 {
		t.Errorf("snapshot %+v", snap)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end on cancel")
	}
	// Close is idempotent and ends a new Run at once.
	o.Close()
	if err := o.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := o.Run(context.Background(), nil); err != nil {
		t.Errorf("Run on a closed observer: %v", err)
	}
}
