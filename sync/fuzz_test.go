package sync

import (
	"net/netip"
	"reflect"
	"testing"
)

// seedMessages are well-formed messages for the fuzz corpus: the kernel
// layout above, an empty one, and full buffers of each family.
func seedMessages(t testing.TB) [][]byte {
	ap := netip.MustParseAddrPort
	v4 := Conn{Protocol: 6, Flags: 0x100, State: 1, Client: ap("203.0.113.9:50000"), Virtual: ap("192.0.2.100:443"),
		Dest: ap("198.51.100.22:443"), Timeout: 900}
	v6 := Conn{Protocol: 132, State: 3, Client: ap("[2001:db8:c::9]:9"), Virtual: ap("[2001:db8::100]:38412"),
		Dest: ap("[2001:db8:d::22]:38412"), FWMark: 7, Seq: &SeqOptions{Out: Seq{InitSeq: 1 << 31}}}
	var full4, full6 Message
	for len(full4.Conns) < 40 { // 40 × 36 + 8 = 1448 bytes: what fits in the default maxlen of 1472
		full4.Conns = append(full4.Conns, v4)
	}
	for len(full6.Conns) < 14 { // 14 × (72+26+2 pad) + 8 = 1406 bytes
		full6.Conns = append(full6.Conns, v6)
	}
	out := [][]byte{kernelMessage()}
	for _, m := range []Message{{SyncID: 1}, {SyncID: 51, Conns: []Conn{v4}}, {Conns: []Conn{v6, v4}}, full4, full6} {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzParseMessage: no input panics the decoder, and whatever it accepts
// re-encodes, no longer than the input, to a message that decodes the same.
func FuzzParseMessage(f *testing.F) {
	for _, b := range seedMessages(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			if m.Conns != nil && len(m.Conns) > 255 {
				t.Fatalf("error %v with %d entries", err, len(m.Conns))
			}
			return
		}
		out, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %+v does not re-encode: %v", m, err)
		}
		if len(out) > len(b) {
			t.Fatalf("re-encoded to %d bytes from %d", len(out), len(b))
		}
		again, err := ParseMessage(out)
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip: %+v, %v\nwant %+v", again, err, m)
		}
		// Counting never fails on what decodes.
		if _, err := NewStats().Record(netip.MustParseAddr("192.0.2.1"), b, timeZero); err != nil {
			t.Fatal(err)
		}
	})
}
