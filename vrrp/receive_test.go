package vrrp

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type nopDeps struct{}

func (nopDeps) Send(*Advert) error                      { return nil }
func (nopDeps) AddVIPs(string, []netip.Prefix) error    { return nil }
func (nopDeps) RemoveVIPs(string, []netip.Prefix) error { return nil }
func (nopDeps) Announce(string, []netip.Addr) error     { return nil }
func (nopDeps) Addrs(string) ([]netip.Addr, error)      { return nil, nil }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDropsCounted feeds a v2 unicast instance one packet per fault and
// checks each is counted under its reason, and only there.
func TestDropsCounted(t *testing.T) {
	peer := netip.MustParseAddr("192.0.2.12")
	local := netip.MustParseAddr("192.0.2.11")
	cfg := testConfig("VI", 100)
	cfg.Version, cfg.AuthPass, cfg.UnicastPeers = V2, "secret", []netip.Addr{peer}

	good := Advert{Version: V2, VRID: 51, Priority: 150, Interval: time.Second, AuthType: AuthPass,
		AuthData: [8]byte{'s', 'e', 'c', 'r', 'e', 't'}, Addrs: []netip.Addr{vip4}}
	enc := func(a Advert, src netip.Addr) []byte {
		b, err := a.Marshal(src, local)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	with := func(f func(*Advert)) []byte { a := good; f(&a); return enc(a, peer) }
	lying := enc(good, peer)
	lying[3] = 3
	binary.BigEndian.PutUint16(lying[6:], checksum(V2, lying, peer, local))
	badSum := enc(good, peer)
	badSum[6] ^= 0x55

	cases := []struct {
		name string
		p    Packet
		want DropReason
	}{
		{"short", Packet{Src: peer, Dst: local, TTL: 255, Data: enc(good, peer)[:5]}, DropShort},
		{"bad checksum", Packet{Src: peer, Dst: local, TTL: 255, Data: badSum}, DropChecksum},
		{"ttl 64", Packet{Src: peer, Dst: local, TTL: 64, Data: enc(good, peer)}, DropTTL},
		{"version 3", Packet{Src: peer, Dst: local, TTL: 255, Data: with(func(a *Advert) { a.Version, a.AuthType, a.AuthData = V3, 0, [8]byte{} })}, DropVersion},
		{"version 3 again", Packet{Src: peer, Dst: local, TTL: 255, Data: with(func(a *Advert) { a.Version, a.AuthType, a.AuthData = V3, 0, [8]byte{} })}, DropVersion},
		{"vrid 52", Packet{Src: peer, Dst: local, TTL: 255, Data: with(func(a *Advert) { a.VRID = 52 })}, DropVRID},
		{"wrong password", Packet{Src: peer, Dst: local, TTL: 255, Data: with(func(a *Advert) { a.AuthData = [8]byte{'x'} })}, DropAuth},
		{"no auth", Packet{Src: peer, Dst: local, TTL: 255, Data: with(func(a *Advert) { a.AuthType, a.AuthData = AuthNone, [8]byte{} })}, DropAuth},
		{"address count lies", Packet{Src: peer, Dst: local, TTL: 255, Data: lying}, DropLength},
		{"v2 interval differs", Packet{Src: peer, Dst: local, TTL: 255, Data: with(func(a *Advert) { a.Interval = 2 * time.Second })}, DropInterval},
		{"unknown unicast source", Packet{Src: netip.MustParseAddr("192.0.2.99"), Dst: local, TTL: 255, Data: enc(good, netip.MustParseAddr("192.0.2.99"))}, DropUnknownIP},
		{"own advert", Packet{Src: local, Dst: local, TTL: 255, Data: enc(good, local)}, DropOwnPacket},
		{"ipv6 to an ipv4 instance", Packet{Src: srcA6, Dst: GroupIPv6, TTL: 255, Data: []byte{0x31}}, DropFamily},
	}
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		in := NewInstance(cfg, Deps{Transport: nopDeps{}, Addresser: nopDeps{}, Announcer: nopDeps{}, LocalIP: local,
			Log: slog.New(slog.NewTextHandler(&logs, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go in.Run(ctx)
		want := map[DropReason]uint64{}
		for _, c := range cases {
			in.Deliver(c.p)
			synctest.Wait()
			want[c.want]++
			s, _ := in.Status()
			for r, n := range want {
				if s.Drops[r] != n {
					t.Errorf("after %q: drops[%s] = %d, want %d", c.name, r, s.Drops[r], n)
				}
			}
			if len(s.Drops) != len(want) || s.Received != 0 {
				t.Errorf("after %q: drops %v, received %d", c.name, s.Drops, s.Received)
			}
		}
		in.Deliver(Packet{Src: peer, Dst: local, TTL: 255, Data: enc(good, peer)})
		synctest.Wait()
		if s, _ := in.Status(); s.Received != 1 {
			t.Errorf("the good advert was not received: %+v", s)
		}
		if n := strings.Count(logs.String(), "set version = 3 on one side to interoperate"); n != 1 {
			t.Errorf("version mismatch logged %d times, want once with the fix:\n%s", n, logs.String())
		}
	})
}
