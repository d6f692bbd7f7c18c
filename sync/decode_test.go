package sync

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

var b16 = binary.BigEndian

// kernelMessage is a sync message laid out by hand the way ip_vs_sync_conn
// fills its buffer: an IPv4 TCP connection, an IPv6 one with sequence
// data (NAT) and persistence engine data and name, and an IPv4 template.
func kernelMessage() []byte {
	var b []byte
	b = append(b, 0, 51, 0, 0, 3, 1, 0, 0) // reserved, syncid, size (later), count, version, spare

	// Entry 0: IPv4, 36 bytes.
	b = append(b, 0, 6)                           // type v4, TCP
	b = b16.AppendUint16(b, 36)                   // ver 0, size 36
	b = b16.AppendUint32(b, 0x0100)               // flags: INACTIVE, masq
	b = b16.AppendUint16(b, 1)                    // state ESTABLISHED
	b = b16.AppendUint16(b, 40000)                // cport
	b = b16.AppendUint16(b, 80)                   // vport
	b = b16.AppendUint16(b, 8080)                 // dport
	b = b16.AppendUint32(b, 0)                    // fwmark
	b = b16.AppendUint32(b, 900)                  // timeout
	b = append(b, 203, 0, 113, 7, 192, 0, 2, 100) // caddr, vaddr
	b = append(b, 198, 51, 100, 21)               // daddr

	// Entry 1 at 44: IPv6, 72 + 2+24 seq + 2+3 pe data + 2+3 pe name = 108 bytes.
	start := len(b)
	b = append(b, 1, 17)
	b = b16.AppendUint16(b, 108)
	b = b16.AppendUint32(b, 0x0600) // IN_SEQ|OUT_SEQ
	b = b16.AppendUint16(b, 0)
	b = b16.AppendUint16(b, 5060)
	b = b16.AppendUint16(b, 5060)
	b = b16.AppendUint16(b, 5061)
	b = b16.AppendUint32(b, 10)
	b = b16.AppendUint32(b, 300)
	for _, a := range []string{"2001:db8:c::2", "2001:db8::100", "2001:db8:d::21"} {
		b = append(b, netip.MustParseAddr(a).AsSlice()...)
	}
	b = append(b, 1, 24)
	for _, v := range []uint32{1, 2, 3, 4, 5, 6} {
		b = b16.AppendUint32(b, v)
	}
	b = append(b, 2, 3, 'a', 'b', 'c')
	b = append(b, 3, 3, 's', 'i', 'p')
	if len(b)-start != 108 {
		panic("entry 1 is not 108 bytes")
	}
	// 108 is aligned: entry 2 follows at once. IPv4 template with an
	// optional (F_PARAM) option of an unknown type; 36+2+1 = 39 bytes.
	b = append(b, 0, 0)
	b = b16.AppendUint16(b, 39)
	b = b16.AppendUint32(b, 0x1000) // TEMPLATE
	b = b16.AppendUint16(b, 0)
	b = append(b, make([]byte, 6)...)
	b = b16.AppendUint32(b, 0)
	b = b16.AppendUint32(b, 360)
	b = append(b, 203, 0, 113, 7, 192, 0, 2, 100, 198, 51, 100, 21)
	b = append(b, 0x45, 1, 0xee)
	b16.PutUint16(b[2:], uint16(len(b)))
	return b
}

func wantKernelMessage() Message {
	ap := netip.MustParseAddrPort
	return Message{SyncID: 51, Conns: []Conn{
		{Protocol: 6, Flags: 0x100, State: 1, Client: ap("203.0.113.7:40000"), Virtual: ap("192.0.2.100:80"),
			Dest: ap("198.51.100.21:8080"), Timeout: 900},
		{Protocol: 17, Flags: 0x600, Client: ap("[2001:db8:c::2]:5060"), Virtual: ap("[2001:db8::100]:5060"),
			Dest: ap("[2001:db8:d::21]:5061"), FWMark: 10, Timeout: 300,
			Seq: &SeqOptions{In: Seq{1, 2, 3}, Out: Seq{4, 5, 6}}, PEData: []byte("abc"), PEName: "sip"},
		{Flags: 0x1000, Client: ap("203.0.113.7:0"), Virtual: ap("192.0.2.100:0"), Dest: ap("198.51.100.21:0"),
			Timeout: 360, Options: []Option{{Type: 0x45, Data: []byte{0xee}}}},
	}}
}

func TestParseKernelLayout(t *testing.T) {
	b := kernelMessage()
	m, err := ParseMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := wantKernelMessage(); !reflect.DeepEqual(m, want) {
		t.Errorf("ParseMessage =\n%+v\nwant\n%+v", m, want)
	}
	if !m.Conns[2].Template() || m.Conns[0].Template() {
		t.Error("Template() wrong")
	}
	// The encoder lays it out byte for byte the same.
	out, err := m.MarshalBinary()
	if err != nil || !bytes.Equal(out, b) {
		t.Errorf("MarshalBinary = %v\n% x\nwant\n% x", err, out, b)
	}
	// The result does not alias the datagram.
	b[len(b)-1] = 0
	if m.Conns[2].Options[0].Data[0] != 0xee {
		t.Error("decoded options alias the input buffer")
	}
}

func TestParseMessageEmptyAndPadding(t *testing.T) {
	m, err := ParseMessage([]byte{0, 7, 0, 8, 0, 1, 0, 0})
	if err != nil || m.SyncID != 7 || len(m.Conns) != 0 {
		t.Errorf("empty message: %+v, %v", m, err)
	}
	// An entry whose size is not a multiple of 4: the next one starts
	// aligned, and bytes past the last entry are ignored (the kernel does).
	one := wantKernelMessage()
	one.Conns = []Conn{one.Conns[2], one.Conns[0]}
	b, err := one.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if b[8+39] != 0 || len(b) != 8+40+36 {
		t.Fatalf("entries not padded as the kernel pads them: % x", b)
	}
	b = append(b, 0xde, 0xad)
	b16.PutUint16(b[2:], uint16(len(b)))
	if got, err := ParseMessage(b); err != nil || !reflect.DeepEqual(got, one) {
		t.Errorf("with trailing bytes: %+v, %v", got, err)
	}
}

func TestParseMessageMalformed(t *testing.T) {
	good := kernelMessage()
	edit := func(f func(b []byte) []byte) []byte {
		b := f(bytes.Clone(good))
		return b
	}
	resize := func(b []byte) []byte { b16.PutUint16(b[2:], uint16(len(b))); return b }
	cases := []struct {
		name  string
		b     []byte
		kind  ErrorKind
		entry int
	}{
		{"empty", nil, KindShort, -1},
		{"v0 header only", []byte{0, 1, 0, 4}, KindShort, -1},
		{"size too big", edit(func(b []byte) []byte { b16.PutUint16(b[2:], uint16(len(b)+1)); return b }), KindSize, -1},
		{"truncated datagram", good[:len(good)-4], KindSize, -1},
		{"version 0 (count first)", edit(func(b []byte) []byte { b[0] = 3; return b }), KindVersion, -1},
		{"version 2", edit(func(b []byte) []byte { b[5] = 2; return b }), KindVersion, -1},
		{"spare set", edit(func(b []byte) []byte { b[7] = 1; return b }), KindVersion, -1},
		{"count beyond entries", edit(func(b []byte) []byte { b[4] = 4; return b }), KindTruncated, 3},
		{"entry size beyond end", edit(func(b []byte) []byte { b16.PutUint16(b[8+2:], 4000); return b }), KindTruncated, 0},
		{"entry version 1", edit(func(b []byte) []byte { b16.PutUint16(b[8+2:], 1<<12|36); return b }), KindEntryVersion, 0},
		{"entry type 2", edit(func(b []byte) []byte { b[8] = 2; return b }), KindEntryType, 0},
		{"entry size 0", edit(func(b []byte) []byte { b16.PutUint16(b[8+2:], 0); return b }), KindEntrySize, 0},
		{"entry size 0, bad type", edit(func(b []byte) []byte { b16.PutUint16(b[8+2:], 0); b[8] = 4; return b }), KindEntryType, 0},
		{"entry size 8", edit(func(b []byte) []byte { b16.PutUint16(b[8+2:], 8); return b }), KindEntrySize, 0},
		{"v6 entry sized as v4", edit(func(b []byte) []byte { b16.PutUint16(b[44+2:], 36); return b }), KindEntrySize, 1},
		{"option of length 0", edit(func(b []byte) []byte { b[44+72+1] = 0; return b }), KindOption, 1},
		{"option past the entry", edit(func(b []byte) []byte { b[44+72+26+5+1] = 9; return b }), KindOption, 1},
		{"seq option of 12 bytes", edit(func(b []byte) []byte {
			// Shrink the entry's seq option to 12 bytes (entry size 96).
			b = append(b[:44+72+2+12], b[44+72+26:]...)
			b[44+72+1] = 12
			b16.PutUint16(b[44+2:], 96)
			return resize(b)
		}), KindOption, 1},
		{"pe name repeated", edit(func(b []byte) []byte { b[44+72+26] = 3; return b }), KindOption, 1},
		{"pe name too long", withOptions(t, 3, 17), KindOption, 0},
		{"seq repeated, once flagged optional", withOptions(t, 1, 24, 0x41, 24), KindOption, 0},
		{"unknown options are fine", withOptions(t, 9, 1, 0x49, 2), 0, 0},
		{"option header cut", edit(func(b []byte) []byte {
			// The template's 3 option bytes become 1: a lone type byte.
			b = b[:len(b)-2]
			b16.PutUint16(b[44+108+2:], 37)
			return resize(b)
		}), KindOption, 2},
	}
	for _, c := range cases {
		_, err := ParseMessage(c.b)
		if c.kind == 0 {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want a DecodeError", c.name, err)
			continue
		}
		if de.Kind != c.kind || de.Entry != c.entry {
			t.Errorf("%s: %v (kind %s, entry %d), want kind %s, entry %d", c.name, err, de.Kind, de.Entry, c.kind, c.entry)
		}
	}
}

// withOptions is a message of one IPv4 entry followed by options given as
// type, length pairs (with zero data).
func withOptions(t *testing.T, typeLen ...int) []byte {
	t.Helper()
	m := Message{Conns: wantKernelMessage().Conns[:1]}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(typeLen); i += 2 {
		b = append(b, byte(typeLen[i]), byte(typeLen[i+1]))
		b = append(b, make([]byte, typeLen[i+1])...)
	}
	b16.PutUint16(b[8+2:], uint16(len(b)-8))
	b16.PutUint16(b[2:], uint16(len(b)))
	return b
}

func TestMarshalRefuses(t *testing.T) {
	ap := netip.MustParseAddrPort
	v4 := Conn{Client: ap("203.0.113.1:1"), Virtual: ap("192.0.2.1:2"), Dest: ap("198.51.100.1:3")}
	mixed := v4
	mixed.Dest = ap("[2001:db8::1]:3")
	long := v4
	long.PEName = "seventeen-bytes-x"
	empty := v4
	empty.PEData = []byte{}
	reserved := v4
	reserved.Options = []Option{{Type: 1, Data: make([]byte, 24)}}
	missing := v4
	missing.Client = netip.AddrPort{}
	for name, c := range map[string]Conn{"mixed families": mixed, "long pe name": long, "empty pe data": empty,
		"seq as option": reserved, "no client": missing} {
		if _, err := (Message{Conns: []Conn{c}}).MarshalBinary(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
	if _, err := (Message{Conns: make([]Conn, 256)}).MarshalBinary(); err == nil {
		t.Error("256 entries encoded")
	}
}

func TestErrorKindString(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range ErrorKinds {
		s := k.String()
		if s == "" || seen[s] || s[0] == 'k' {
			t.Errorf("kind %d named %q", k, s)
		}
		seen[s] = true
	}
	if ErrorKind(0).String() != "kind(0)" {
		t.Error("unknown kind name")
	}
}
