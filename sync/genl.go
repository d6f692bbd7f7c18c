package sync

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// The generic netlink messages of the sync daemon commands, from
// include/uapi/linux/ip_vs.h and ip_vs_genl_fill_daemon /
// ip_vs_genl_new_daemon in net/netfilter/ipvs/ip_vs_ctl.c. Encoding and
// decoding are pure so that they are tested on any machine; the socket is
// in kernel_linux.go.
const (
	ipvsGenlName    = "IPVS" // IPVS_GENL_NAME
	ipvsGenlVersion = 1      // IPVS_GENL_VERSION

	cmdNewDaemon = 9  // IPVS_CMD_NEW_DAEMON; also the command of each dump reply
	cmdDelDaemon = 10 // IPVS_CMD_DEL_DAEMON
	cmdGetDaemon = 11 // IPVS_CMD_GET_DAEMON

	cmdAttrDaemon = 3 // IPVS_CMD_ATTR_DAEMON, nests the attributes below

	daemonAttrState       = 1 // IPVS_DAEMON_ATTR_STATE, u32
	daemonAttrMcastIfn    = 2 // IPVS_DAEMON_ATTR_MCAST_IFN, NUL-terminated string
	daemonAttrSyncID      = 3 // IPVS_DAEMON_ATTR_SYNC_ID, u32 (the kernel keeps a u8)
	daemonAttrSyncMaxlen  = 4 // IPVS_DAEMON_ATTR_SYNC_MAXLEN, u16
	daemonAttrMcastGroup  = 5 // IPVS_DAEMON_ATTR_MCAST_GROUP, struct in_addr
	daemonAttrMcastGroup6 = 6 // IPVS_DAEMON_ATTR_MCAST_GROUP6, struct in6_addr
	daemonAttrMcastPort   = 7 // IPVS_DAEMON_ATTR_MCAST_PORT, u16 in host order
	daemonAttrMcastTTL    = 8 // IPVS_DAEMON_ATTR_MCAST_TTL, u8
)

// The generic netlink controller, to resolve the family name to its id
// (include/uapi/linux/genetlink.h).
const (
	genlIDCtrl                = 0x10 // GENL_ID_CTRL
	genlCtrlVersion           = 2
	ctrlCmdGetFamily          = 3 // CTRL_CMD_GETFAMILY
	ctrlAttrFamilyID          = 1 // CTRL_ATTR_FAMILY_ID, u16
	ctrlAttrFamilyName        = 2 // CTRL_ATTR_FAMILY_NAME
	genlHdrLen                = 4 // struct genlmsghdr
	nlaHdrLen                 = 4 // struct nlattr
	nlaFNested                = 1 << 15
	nlaFNetByteorder          = 1 << 14
	nlaTypeMask        uint16 = ^uint16(nlaFNested | nlaFNetByteorder)
)

// Netlink attributes are in host byte order.
var ne = binary.NativeEndian

type nlattr struct {
	typ  uint16
	data []byte
}

func appendAttr(b []byte, typ uint16, data []byte) []byte {
	b = ne.AppendUint16(b, uint16(nlaHdrLen+len(data)))
	b = ne.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func appendU8(b []byte, typ uint16, v uint8) []byte { return appendAttr(b, typ, []byte{v}) }
func appendU16(b []byte, typ uint16, v uint16) []byte {
	return appendAttr(b, typ, ne.AppendUint16(nil, v))
}
func appendU32(b []byte, typ uint16, v uint32) []byte {
	return appendAttr(b, typ, ne.AppendUint32(nil, v))
}
func appendString(b []byte, typ uint16, s string) []byte {
	return appendAttr(b, typ, append([]byte(s), 0))
}

// parseAttrs splits b into attributes, with the nested and byte-order
// flags masked off the type.
func parseAttrs(b []byte) ([]nlattr, error) {
	var out []nlattr
	for len(b) > 0 {
		if len(b) < nlaHdrLen {
			return nil, fmt.Errorf("netlink attribute header truncated: %d bytes", len(b))
		}
		l := int(ne.Uint16(b))
		if l < nlaHdrLen || l > len(b) {
			return nil, fmt.Errorf("netlink attribute length %d out of range (%d bytes left)", l, len(b))
		}
		out = append(out, nlattr{typ: ne.Uint16(b[2:]) & nlaTypeMask, data: b[nlaHdrLen:l]})
		l = (l + 3) &^ 3
		if l > len(b) {
			l = len(b)
		}
		b = b[l:]
	}
	return out, nil
}

// genlHeader is a struct genlmsghdr.
func genlHeader(cmd, version uint8) []byte { return []byte{cmd, version, 0, 0} }

// familyRequest is the payload of CTRL_CMD_GETFAMILY for name.
func familyRequest(name string) []byte {
	return appendString(genlHeader(ctrlCmdGetFamily, genlCtrlVersion), ctrlAttrFamilyName, name)
}

// parseFamilyID reads CTRL_ATTR_FAMILY_ID from a controller reply payload.
func parseFamilyID(msg []byte) (uint16, error) {
	if len(msg) < genlHdrLen {
		return 0, errors.New("generic netlink reply shorter than its header")
	}
	attrs, err := parseAttrs(msg[genlHdrLen:])
	if err != nil {
		return 0, err
	}
	for _, a := range attrs {
		if a.typ == ctrlAttrFamilyID && len(a.data) == 2 {
			return ne.Uint16(a.data), nil
		}
	}
	return 0, errors.New("generic netlink controller reply without a family id")
}

// newDaemonRequest is the payload of IPVS_CMD_NEW_DAEMON. Zero parameters
// are left out, so that the kernel applies its own defaults, as ipvsadm
// does.
func newDaemonRequest(s State, c Config) []byte {
	var in []byte
	in = appendU32(in, daemonAttrState, uint32(s))
	in = appendString(in, daemonAttrMcastIfn, c.Interface)
	in = appendU32(in, daemonAttrSyncID, uint32(c.SyncID))
	if c.MaxLen != 0 {
		in = appendU16(in, daemonAttrSyncMaxlen, c.MaxLen)
	}
	switch {
	case c.Group.Is4():
		a := c.Group.As4()
		in = appendAttr(in, daemonAttrMcastGroup, a[:])
	case c.Group.Is6():
		a := c.Group.As16()
		in = appendAttr(in, daemonAttrMcastGroup6, a[:])
	}
	if c.Port != 0 {
		in = appendU16(in, daemonAttrMcastPort, c.Port)
	}
	if c.TTL != 0 {
		in = appendU8(in, daemonAttrMcastTTL, c.TTL)
	}
	return appendAttr(genlHeader(cmdNewDaemon, ipvsGenlVersion), cmdAttrDaemon|nlaFNested, in)
}

// delDaemonRequest is the payload of IPVS_CMD_DEL_DAEMON: only the state.
func delDaemonRequest(s State) []byte {
	in := appendU32(nil, daemonAttrState, uint32(s))
	return appendAttr(genlHeader(cmdDelDaemon, ipvsGenlVersion), cmdAttrDaemon|nlaFNested, in)
}

// getDaemonRequest is the payload of the IPVS_CMD_GET_DAEMON dump.
func getDaemonRequest() []byte { return genlHeader(cmdGetDaemon, ipvsGenlVersion) }

// parseDaemon decodes one reply of the IPVS_CMD_GET_DAEMON dump (generic
// netlink header included), as ip_vs_genl_fill_daemon writes it.
func parseDaemon(msg []byte) (Daemon, error) {
	var d Daemon
	if len(msg) < genlHdrLen {
		return d, errors.New("daemon reply shorter than its generic netlink header")
	}
	top, err := parseAttrs(msg[genlHdrLen:])
	if err != nil {
		return d, err
	}
	var nested []byte
	found := false
	for _, a := range top {
		if a.typ == cmdAttrDaemon {
			nested, found = a.data, true
		}
	}
	if !found {
		return d, errors.New("daemon reply without IPVS_CMD_ATTR_DAEMON")
	}
	attrs, err := parseAttrs(nested)
	if err != nil {
		return d, err
	}
	size := func(a nlattr, n int) error {
		if len(a.data) != n {
			return fmt.Errorf("daemon attribute %d has %d bytes, want %d", a.typ, len(a.data), n)
		}
		return nil
	}
	for _, a := range attrs {
		switch a.typ {
		case daemonAttrState:
			if err := size(a, 4); err != nil {
				return d, err
			}
			d.State = State(ne.Uint32(a.data))
		case daemonAttrMcastIfn:
			d.Config.Interface = string(bytes.TrimRight(a.data, "\x00"))
		case daemonAttrSyncID:
			if err := size(a, 4); err != nil {
				return d, err
			}
			d.Config.SyncID = uint8(ne.Uint32(a.data))
		case daemonAttrSyncMaxlen:
			if err := size(a, 2); err != nil {
				return d, err
			}
			d.Config.MaxLen = ne.Uint16(a.data)
		case daemonAttrMcastGroup:
			if err := size(a, 4); err != nil {
				return d, err
			}
			d.Config.Group = netip.AddrFrom4([4]byte(a.data))
		case daemonAttrMcastGroup6:
			if err := size(a, 16); err != nil {
				return d, err
			}
			d.Config.Group = netip.AddrFrom16([16]byte(a.data))
		case daemonAttrMcastPort:
			if err := size(a, 2); err != nil {
				return d, err
			}
			d.Config.Port = ne.Uint16(a.data)
		case daemonAttrMcastTTL:
			if err := size(a, 1); err != nil {
				return d, err
			}
			d.Config.TTL = a.data[0]
		}
	}
	if !d.State.Valid() {
		return d, fmt.Errorf("daemon reply with state %d", uint32(d.State))
	}
	return d, nil
}
