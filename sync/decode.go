package sync

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

var be = binary.BigEndian

// ErrMalformed is matched by every DecodeError.
var ErrMalformed = errors.New("malformed sync message")

// ErrorKind classifies why a datagram is not a valid sync message. Each
// kind is a check of ip_vs_process_message or ip_vs_proc_sync_conn that
// makes the kernel's backup drop the datagram.
type ErrorKind uint8

const (
	KindShort        ErrorKind = iota + 1 // shorter than the header
	KindSize                              // header size differs from the datagram's length
	KindVersion                           // not version 1 (a version 0 message, or garbage)
	KindTruncated                         // an entry runs past the end of the datagram
	KindEntryVersion                      // an entry's format version is not 0
	KindEntryType                         // an entry's type has unknown bits
	KindEntrySize                         // an entry is shorter than its addresses
	KindOption                            // an option is truncated, empty, repeated or of a wrong length
)

var kindNames = [...]string{
	KindShort: "short", KindSize: "size", KindVersion: "version", KindTruncated: "truncated",
	KindEntryVersion: "entry-version", KindEntryType: "entry-type", KindEntrySize: "entry-size", KindOption: "option",
}

// ErrorKinds lists every kind, e.g. to export all counters from zero.
var ErrorKinds = []ErrorKind{KindShort, KindSize, KindVersion, KindTruncated, KindEntryVersion, KindEntryType, KindEntrySize, KindOption}

func (k ErrorKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// DecodeError says where and why a datagram failed to decode.
type DecodeError struct {
	Kind   ErrorKind
	Entry  int // index of the connection entry, -1 for the header
	Offset int // byte offset in the datagram
	Detail string
}

func (e *DecodeError) Error() string {
	where := "header"
	if e.Entry >= 0 {
		where = fmt.Sprintf("entry %d", e.Entry)
	}
	return fmt.Sprintf("sync message: %s at byte %d: %s: %s", where, e.Offset, e.Kind, e.Detail)
}

func (e *DecodeError) Unwrap() error { return ErrMalformed }

func malformed(kind ErrorKind, entry, off int, format string, args ...any) error {
	return &DecodeError{Kind: kind, Entry: entry, Offset: off, Detail: fmt.Sprintf(format, args...)}
}

// ParseMessage decodes a version 1 sync message, accepting what the
// kernel's backup accepts (ip_vs_process_message): an error for any
// datagram the kernel would drop whole. Bytes after the last entry are
// ignored, as the kernel ignores them; options of unknown types are kept
// in Conn.Options. The result shares no memory with b.
func ParseMessage(b []byte) (Message, error) {
	var m Message
	if len(b) < headerLen {
		return m, malformed(KindShort, -1, 0, "%d bytes, the header has %d", len(b), headerLen)
	}
	if size := int(be.Uint16(b[2:])); size != len(b) {
		return m, malformed(KindSize, -1, 2, "header says %d bytes, datagram has %d", size, len(b))
	}
	// The kernel reads any other header as version 0, which lvsd does not
	// decode (sysctl net.ipv4.vs.sync_version=0 selects it).
	if b[0] != 0 || b[5] != syncProtoVer || be.Uint16(b[6:]) != 0 {
		return m, malformed(KindVersion, -1, 0, "reserved %d, version %d, spare %d: not a version %d message",
			b[0], b[5], be.Uint16(b[6:]), syncProtoVer)
	}
	m.SyncID = b[1]
	n := int(b[4])
	next := headerLen
	for i := range n {
		p := next
		if p+entryLen4 > len(b) {
			return m, malformed(KindTruncated, i, p, "entry needs at least %d bytes, %d left", entryLen4, max(len(b)-p, 0))
		}
		verSize := be.Uint16(b[p+2:])
		size := int(verSize & sverMask)
		if p+size > len(b) {
			return m, malformed(KindTruncated, i, p, "entry of %d bytes, %d left", size, len(b)-p)
		}
		if v := verSize >> sverShift; v != 0 {
			return m, malformed(KindEntryVersion, i, p+2, "entry format version %d", v)
		}
		c, err := parseConn(b[p:p+size], b[p], i, p)
		if err != nil {
			return m, err
		}
		m.Conns = append(m.Conns, c)
		next = p + (size+3)&^3 // the next entry starts 32-bit aligned
	}
	return m, nil
}

// parseConn decodes one entry e of type typ found at offset off
// (ip_vs_proc_sync_conn). The type byte is read even when the entry's size
// leaves it out, as the kernel reads it: the entry header is always there.
func parseConn(e []byte, typ byte, entry, off int) (Conn, error) {
	var c Conn
	family, addrLen, fixed := 4, 4, entryLen4
	switch typ {
	case 0:
	case stypeFInet6:
		family, addrLen, fixed = 6, 16, entryLen6
	default:
		return c, malformed(KindEntryType, entry, off, "type %#x", typ)
	}
	if len(e) < fixed {
		return c, malformed(KindEntrySize, entry, off, "entry size %d, an IPv%d entry has %d", len(e), family, fixed)
	}
	c.Protocol = e[1]
	c.Flags = be.Uint32(e[4:])
	c.State = be.Uint16(e[8:])
	cport, vport, dport := be.Uint16(e[10:]), be.Uint16(e[12:]), be.Uint16(e[14:])
	c.FWMark = be.Uint32(e[16:])
	c.Timeout = be.Uint32(e[20:])
	addr := func(i int) netip.Addr {
		a := e[entryFixed+i*addrLen : entryFixed+(i+1)*addrLen]
		if addrLen == 4 {
			return netip.AddrFrom4([4]byte(a))
		}
		return netip.AddrFrom16([16]byte(a))
	}
	c.Client = netip.AddrPortFrom(addr(0), cport)
	c.Virtual = netip.AddrPortFrom(addr(1), vport)
	c.Dest = netip.AddrPortFrom(addr(2), dport)

	seen := map[uint8]bool{}
	for p := fixed; p < len(e); {
		if p+2 > len(e) {
			return c, malformed(KindOption, entry, off+p, "option header truncated")
		}
		ptype, plen := e[p], int(e[p+1])
		p += 2
		if plen == 0 || p+plen > len(e) {
			return c, malformed(KindOption, entry, off+p-2, "option %d of length %d, %d bytes left", ptype, plen, len(e)-p)
		}
		data := e[p : p+plen]
		base := ptype &^ optFParam
		switch base {
		case optSeqData, optPEData, optPEName:
			if seen[base] {
				return c, malformed(KindOption, entry, off+p-2, "option %d repeated", base)
			}
			seen[base] = true
		}
		switch base {
		case optSeqData:
			if plen != seqOptLen {
				return c, malformed(KindOption, entry, off+p-2, "sequence option of %d bytes, want %d", plen, seqOptLen)
			}
			seq := func(b []byte) Seq { return Seq{be.Uint32(b), be.Uint32(b[4:]), be.Uint32(b[8:])} }
			c.Seq = &SeqOptions{In: seq(data), Out: seq(data[12:])}
		case optPEData:
			c.PEData = bytes.Clone(data) // plen <= 255 = IP_VS_PEDATA_MAXLEN by its size
		case optPEName:
			if plen > peNameMax {
				return c, malformed(KindOption, entry, off+p-2, "persistence engine name of %d bytes, at most %d", plen, peNameMax)
			}
			c.PEName = string(data)
		default:
			// The kernel skips this entry (not the datagram) for a
			// mandatory option it does not know, and ignores an optional
			// one; either way the message is well formed.
			c.Options = append(c.Options, Option{Type: ptype, Data: bytes.Clone(data)})
		}
		p += plen
	}
	return c, nil
}
