package sync

import (
	"fmt"
	"net/netip"
)

// The kernel's sync message, format version 1, as sent by the master
// daemon and read by the backup (net/netfilter/ipvs/ip_vs_sync.c): a
// header, struct ip_vs_sync_mesg,
//
//	| reserved = 0 | sync id | size (be16, whole datagram) |
//	| count        | version = 1 | spare = 0 (16 bits)      |
//
// then count connection entries, each struct ip_vs_sync_v4 or
// ip_vs_sync_v6 followed by options, each entry starting on a 4-byte
// boundary. All fields are in network byte order.
const (
	syncProtoVer = 1  // SYNC_PROTO_VER
	headerLen    = 8  // sizeof(struct ip_vs_sync_mesg)
	headerLenV0  = 4  // sizeof(struct ip_vs_sync_mesg_v0): the kernel's first check
	entryLen4    = 36 // sizeof(struct ip_vs_sync_v4)
	entryLen6    = 72 // sizeof(struct ip_vs_sync_v6)
	entryFixed   = 24 // the part before the addresses, shared by both

	stypeFInet6 = 1 << 0 // STYPE_F_INET6, in the entry's type byte
	sverShift   = 12     // SVER_SHIFT: entry format version in ver_size
	sverMask    = 0x0fff // SVER_MASK: entry size in ver_size

	optSeqData = 1    // IPVS_OPT_SEQ_DATA
	optPEData  = 2    // IPVS_OPT_PE_DATA
	optPEName  = 3    // IPVS_OPT_PE_NAME
	optFParam  = 0x40 // IPVS_OPT_F_PARAM: an option the receiver may ignore

	seqOptLen = 24  // sizeof(struct ip_vs_sync_conn_options): two ip_vs_seq
	peDataMax = 255 // IP_VS_PEDATA_MAXLEN
	peNameMax = 16  // IP_VS_PENAME_MAXLEN

	// ConnFlagTemplate is IP_VS_CONN_F_TEMPLATE (include/uapi/linux/ip_vs.h):
	// the entry is a persistence template, not a connection.
	ConnFlagTemplate = 0x1000
)

// Message is one decoded sync datagram.
type Message struct {
	SyncID uint8
	Conns  []Conn
}

// Conn is one connection entry of a sync message.
type Conn struct {
	Protocol uint8  // IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, or IPPROTO_IP for templates
	Flags    uint32 // IP_VS_CONN_F_* (forwarding method, INACTIVE, TEMPLATE, ...)
	State    uint16 // protocol state, e.g. IP_VS_TCP_S_ESTABLISHED (1)
	Client   netip.AddrPort
	Virtual  netip.AddrPort
	Dest     netip.AddrPort
	FWMark   uint32
	Timeout  uint32 // seconds

	// Seq is the NAT sequence adjustment (IPVS_OPT_SEQ_DATA), nil if absent.
	Seq *SeqOptions
	// PEData and PEName are the persistence engine's data and name
	// (IPVS_OPT_PE_DATA, IPVS_OPT_PE_NAME), e.g. a SIP Call-ID.
	PEData []byte
	PEName string
	// Options are the options of other types, in order.
	Options []Option
}

// Template reports whether c is a persistence template.
func (c Conn) Template() bool { return c.Flags&ConnFlagTemplate != 0 }

// Key identifies the connection c describes, across repeated entries: a
// connection is synced again on state changes and every sync_period
// packets.
func (c Conn) Key() ConnKey {
	return ConnKey{Protocol: c.Protocol, Template: c.Template(), Client: c.Client, Virtual: c.Virtual, Dest: c.Dest}
}

// ConnKey is the identity of a synced connection.
type ConnKey struct {
	Protocol uint8
	Template bool
	Client   netip.AddrPort
	Virtual  netip.AddrPort
	Dest     netip.AddrPort
}

func (k ConnKey) String() string {
	t := ""
	if k.Template {
		t = " template"
	}
	return fmt.Sprintf("proto %d%s %s -> %s -> %s", k.Protocol, t, k.Client, k.Virtual, k.Dest)
}

// Seq is struct ip_vs_seq.
type Seq struct {
	InitSeq, Delta, PreviousDelta uint32
}

// SeqOptions is struct ip_vs_sync_conn_options: the sequence adjustment
// of both directions.
type SeqOptions struct {
	In, Out Seq
}

// Option is an entry option lvsd does not interpret.
type Option struct {
	Type uint8
	Data []byte
}
