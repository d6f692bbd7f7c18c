package vrrp

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var (
	srcA  = netip.MustParseAddr("192.0.2.11")
	vip4  = netip.MustParseAddr("192.0.2.100")
	vip4b = netip.MustParseAddr("192.0.2.101")
	srcA6 = netip.MustParseAddr("fe80::11")
	vip6  = netip.MustParseAddr("2001:db8::100")
)

func TestAdvertRoundTrip(t *testing.T) {
	pass := [8]byte{'s', 'e', 'c', 'r', 'e', 't'}
	cases := []struct {
		name     string
		a        Advert
		src, dst netip.Addr
		size     int
	}{
		{"v3 ipv4 multicast", Advert{Version: V3, VRID: 51, Priority: 150, Interval: time.Second, Addrs: []netip.Addr{vip4, vip4b}}, srcA, GroupIPv4, 16},
		{"v3 ipv4 centiseconds", Advert{Version: V3, VRID: 1, Priority: 255, Interval: 40950 * time.Millisecond, Addrs: []netip.Addr{vip4}}, srcA, GroupIPv4, 12},
		{"v3 ipv4 unicast", Advert{Version: V3, VRID: 9, Priority: 0, Interval: 10 * time.Millisecond, Addrs: []netip.Addr{vip4}}, srcA, netip.MustParseAddr("192.0.2.12"), 12},
		{"v3 ipv6", Advert{Version: V3, VRID: 7, Priority: 100, Interval: 100 * time.Millisecond, Addrs: []netip.Addr{vip6}}, srcA6, GroupIPv6, 24},
		{"v2 no auth", Advert{Version: V2, VRID: 51, Priority: 100, Interval: 3 * time.Second, Addrs: []netip.Addr{vip4}}, srcA, GroupIPv4, 20},
		{"v2 pass", Advert{Version: V2, VRID: 255, Priority: 1, Interval: 255 * time.Second, AuthType: AuthPass, AuthData: pass, Addrs: []netip.Addr{vip4}}, srcA, GroupIPv4, 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.a.Marshal(c.src, c.dst)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != c.size {
				t.Errorf("size %d, want %d", len(b), c.size)
			}
			got, err := ParseAdvert(b, c.src, c.dst)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.a) {
				t.Errorf("got %+v\nwant %+v", got, c.a)
			}
		})
	}
}

// TestChecksumVectors pins the checksum against sums worked by hand, so a
// symmetric mistake in Marshal and ParseAdvert cannot pass.
func TestChecksumVectors(t *testing.T) {
	// v2, VRID 51, prio 100, 1 addr, no auth, 1s, 192.0.2.100.
	// Words: 0x2133 0x6401 0x0001 (csum) 0xc000 0x0264 0 0 0 0
	// sum = 0x2133+0x6401+0x0001+0xc000+0x0264 = 0x14799 → 0x4799+1 = 0x479a → ^ = 0xb865
	a := Advert{Version: V2, VRID: 51, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{vip4}}
	b, _ := a.Marshal(srcA, GroupIPv4)
	if got := binary.BigEndian.Uint16(b[6:]); got != 0xb865 {
		t.Errorf("v2 checksum %#04x, want 0xb865", got)
	}
	// v3 adds the pseudo-header: 192.0.2.11 → 224.0.0.18, proto 112, len 12.
	// Message words: 0x3133+0x6401+0x0064+0xc000+0x0264 = 0x157fc
	// Pseudo: 0xc000+0x020b+0xe000+0x0012+0x0070+0x000c = 0x1a299
	// Sum 0x2fa95 → 0xfa95+2 = 0xfa97 → ^ = 0x0568
	a.Version = V3
	b, _ = a.Marshal(srcA, GroupIPv4)
	if got := binary.BigEndian.Uint16(b[6:]); got != 0x0568 {
		t.Errorf("v3 checksum %#04x, want 0x0568", got)
	}
}

func TestParseRejects(t *testing.T) {
	good := func() []byte {
		b, err := (&Advert{Version: V3, VRID: 51, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{vip4}}).Marshal(srcA, GroupIPv4)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fix := func(b []byte) []byte { // recompute the checksum after an edit
		binary.BigEndian.PutUint16(b[6:], checksum(Version(b[0]>>4), b, srcA, GroupIPv4))
		return b
	}
	cases := []struct {
		name string
		b    []byte
		want DropReason
	}{
		{"empty", nil, DropShort},
		{"short header", good()[:7], DropShort},
		{"version 1", fix(func() []byte { b := good(); b[0] = 0x11; return b }()), DropVersion},
		{"version 4", fix(func() []byte { b := good(); b[0] = 0x41; return b }()), DropVersion},
		{"type 2", fix(func() []byte { b := good(); b[0] = 0x32; return b }()), DropType},
		{"vrid 0", fix(func() []byte { b := good(); b[1] = 0; return b }()), DropVRID},
		{"count says 2, one address", fix(func() []byte { b := good(); b[3] = 2; return b }()), DropLength},
		{"count says 0, one address", fix(func() []byte { b := good(); b[3] = 0; return b }()), DropLength},
		{"truncated address", fix(good()[:10]), DropLength},
		{"trailing bytes", fix(append(good(), 0, 0, 0, 0)), DropLength},
		{"bad checksum", func() []byte { b := good(); b[7] ^= 0xff; return b }(), DropChecksum},
		{"checksum without pseudo-header", func() []byte {
			b := good()
			binary.BigEndian.PutUint16(b[6:], checksum(V2, b, srcA, GroupIPv4))
			return b
		}(), DropChecksum},
		{"zero interval", fix(func() []byte { b := good(); b[4], b[5] = 0xf0, 0; return b }()), DropZeroIntvl},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseAdvert(c.b, srcA, GroupIPv4)
			var de *DropError
			if !errors.As(err, &de) || de.Reason != c.want {
				t.Errorf("err = %v, want drop %q", err, c.want)
			}
		})
	}
	// The checksum binds the destination: a unicast advert checked
	// against another peer's address fails (one checksum per peer).
	b, _ := (&Advert{Version: V3, VRID: 5, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{vip4}}).Marshal(srcA, netip.MustParseAddr("192.0.2.12"))
	if _, err := ParseAdvert(b, srcA, netip.MustParseAddr("192.0.2.13")); err == nil {
		t.Error("advert for 192.0.2.12 accepted as sent to 192.0.2.13")
	}
	// v2 over IPv6 does not exist.
	b6, _ := (&Advert{Version: V3, VRID: 5, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{vip6}}).Marshal(srcA6, GroupIPv6)
	b6[0] = 0x21
	if _, err := ParseAdvert(b6, srcA6, GroupIPv6); err == nil {
		t.Error("v2 over IPv6 accepted")
	}
}

func TestMarshalRefuses(t *testing.T) {
	for name, a := range map[string]Advert{
		"v2 sub-second":   {Version: V2, VRID: 1, Interval: 500 * time.Millisecond, Addrs: []netip.Addr{vip4}},
		"v3 too long":     {Version: V3, VRID: 1, Interval: 41 * time.Second, Addrs: []netip.Addr{vip4}},
		"mixed family":    {Version: V3, VRID: 1, Interval: time.Second, Addrs: []netip.Addr{vip6}},
		"unknown version": {Version: 4, VRID: 1, Interval: time.Second, Addrs: []netip.Addr{vip4}},
	} {
		if _, err := a.Marshal(srcA, GroupIPv4); err == nil {
			t.Errorf("%s: marshalled", name)
		}
	}
}

// FuzzParseAdvert: no input panics the decoder, and whatever it accepts
// encodes back to the same bytes.
func FuzzParseAdvert(f *testing.F) {
	for _, a := range []Advert{
		{Version: V3, VRID: 51, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{vip4, vip4b}},
		{Version: V2, VRID: 51, Priority: 100, Interval: time.Second, AuthType: AuthPass, AuthData: [8]byte{'p'}, Addrs: []netip.Addr{vip4}},
	} {
		b, _ := a.Marshal(srcA, GroupIPv4)
		f.Add(b, false)
	}
	b6, _ := (&Advert{Version: V3, VRID: 3, Priority: 200, Interval: 20 * time.Millisecond, Addrs: []netip.Addr{vip6}}).Marshal(srcA6, GroupIPv6)
	f.Add(b6, true)
	f.Add([]byte{0x31, 1, 1, 0, 0, 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		src, dst := srcA, GroupIPv4
		if v6 {
			src, dst = srcA6, GroupIPv6
		}
		a, err := ParseAdvert(b, src, dst)
		if err != nil {
			var de *DropError
			if !errors.As(err, &de) || de.Reason == "" {
				t.Fatalf("error without a drop reason: %v", err)
			}
			return
		}
		out, err := a.Marshal(src, dst)
		if err != nil {
			t.Fatalf("accepted advert does not encode: %v", err)
		}
		if a.Version == V3 {
			out[4] |= b[4] & 0xf0 // reserved bits are ignored on receipt
			binary.BigEndian.PutUint16(out[6:], binary.BigEndian.Uint16(b[6:]))
		}
		if string(out) != string(b) {
			t.Fatalf("re-encoded\n%x\nfrom\n%x", out, b)
		}
	})
}
