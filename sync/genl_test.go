package sync

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
)

// attrBytes assembles one netlink attribute by hand, independently of
// appendAttr.
func attrBytes(typ uint16, data ...byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u16(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func TestNewDaemonRequest(t *testing.T) {
	c := Config{Interface: "eth0", SyncID: 51, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1, MaxLen: 1472}
	inner := bytes.Join([][]byte{
		attrBytes(1, u32(1)...),             // STATE master
		attrBytes(2, 'e', 't', 'h', '0', 0), // MCAST_IFN
		attrBytes(3, u32(51)...),            // SYNC_ID
		attrBytes(4, u16(1472)...),          // SYNC_MAXLEN
		attrBytes(5, 224, 0, 0, 81),         // MCAST_GROUP, network order
		attrBytes(7, u16(8848)...),          // MCAST_PORT, host order
		attrBytes(8, 1),                     // MCAST_TTL
	}, nil)
	want := append([]byte{9, 1, 0, 0}, attrBytes(3|1<<15, inner...)...)
	if got := newDaemonRequest(Master, c); !bytes.Equal(got, want) {
		t.Errorf("NEW_DAEMON payload\n got % x\nwant % x", got, want)
	}

	// Zero parameters are left to the kernel; an IPv6 group goes in GROUP6.
	g6 := netip.MustParseAddr("ff02::81")
	inner = bytes.Join([][]byte{
		attrBytes(1, u32(2)...), attrBytes(2, 'x', 0), attrBytes(3, u32(0)...), attrBytes(6, g6.AsSlice()...),
	}, nil)
	want = append([]byte{9, 1, 0, 0}, attrBytes(3|1<<15, inner...)...)
	if got := newDaemonRequest(Backup, Config{Interface: "x", Group: g6}); !bytes.Equal(got, want) {
		t.Errorf("NEW_DAEMON payload (v6, defaults)\n got % x\nwant % x", got, want)
	}

	want = append([]byte{10, 1, 0, 0}, attrBytes(3|1<<15, attrBytes(1, u32(2)...)...)...)
	if got := delDaemonRequest(Backup); !bytes.Equal(got, want) {
		t.Errorf("DEL_DAEMON payload\n got % x\nwant % x", got, want)
	}
	if got := getDaemonRequest(); !bytes.Equal(got, []byte{11, 1, 0, 0}) {
		t.Errorf("GET_DAEMON payload % x", got)
	}
}

// kernelReply builds a dump reply as ip_vs_genl_fill_daemon does: state,
// ifn, sync id, maxlen, port, ttl, then the group.
func kernelReply(state uint32, ifn string, syncid uint32, maxlen, port uint16, ttl uint8, group netip.Addr) []byte {
	groupAttr := attrBytes(5, group.AsSlice()...)
	if group.Is6() {
		groupAttr = attrBytes(6, group.AsSlice()...)
	}
	inner := bytes.Join([][]byte{
		attrBytes(1, u32(state)...), attrBytes(2, append([]byte(ifn), 0)...), attrBytes(3, u32(syncid)...),
		attrBytes(4, u16(maxlen)...), attrBytes(7, u16(port)...), attrBytes(8, ttl), groupAttr,
	}, nil)
	// The kernel's nla_nest_start_noflag sets no NLA_F_NESTED.
	return append([]byte{9, 1, 0, 0}, attrBytes(3, inner...)...)
}

func TestParseDaemon(t *testing.T) {
	g6 := netip.MustParseAddr("ff32:20:2001:db8::81")
	cases := []struct {
		msg  []byte
		want Daemon
	}{
		{kernelReply(1, "eth0", 51, 1472, 8848, 1, DefaultGroup),
			Daemon{Master, Config{Interface: "eth0", SyncID: 51, Group: DefaultGroup, Port: 8848, TTL: 1, MaxLen: 1472}}},
		{kernelReply(2, "sync0", 255, 1024, 54321, 64, g6),
			Daemon{Backup, Config{Interface: "sync0", SyncID: 255, Group: g6, Port: 54321, TTL: 64, MaxLen: 1024}}},
	}
	for _, c := range cases {
		got, err := parseDaemon(c.msg)
		if err != nil || got != c.want {
			t.Errorf("parseDaemon = %+v, %v; want %+v", got, err, c.want)
		}
	}

	bad := map[string][]byte{
		"shorter than":       {9, 1},
		"without IPVS_CMD":   {9, 1, 0, 0},
		"attribute length":   append([]byte{9, 1, 0, 0}, 0xff, 0, 3, 0),
		"has 2 bytes":        append([]byte{9, 1, 0, 0}, attrBytes(3, attrBytes(1, 0, 0)...)...),
		"with state 0":       append([]byte{9, 1, 0, 0}, attrBytes(3, attrBytes(2, 'x', 0)...)...),
		"header truncated":   append([]byte{9, 1, 0, 0}, 8, 0, 3, 0, 1, 2, 3, 4, 5),
		"want 16":            append([]byte{9, 1, 0, 0}, attrBytes(3, attrBytes(6, 1, 2, 3, 4)...)...),
		"daemon attribute 8": append([]byte{9, 1, 0, 0}, attrBytes(3, attrBytes(8, 1, 2)...)...),
	}
	for want, msg := range bad {
		if _, err := parseDaemon(msg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseDaemon(% x) = %v, want an error saying %q", msg, err, want)
		}
	}
}

func TestParseFamilyID(t *testing.T) {
	msg := append([]byte{1, 2, 0, 0}, attrBytes(2, 'I', 'P', 'V', 'S', 0)...)
	msg = append(msg, attrBytes(1, u16(0x2a)...)...)
	if id, err := parseFamilyID(msg); err != nil || id != 0x2a {
		t.Errorf("parseFamilyID = %#x, %v; want 0x2a", id, err)
	}
	if _, err := parseFamilyID(msg[:4]); err == nil {
		t.Error("parseFamilyID without the id: no error")
	}
	if got, want := familyRequest("IPVS"), append([]byte{3, 2, 0, 0}, attrBytes(2, 'I', 'P', 'V', 'S', 0)...); !bytes.Equal(got, want) {
		t.Errorf("familyRequest = % x, want % x", got, want)
	}
}

func TestMapErrno(t *testing.T) {
	cases := []struct {
		errno syscall.Errno
		is    error
		says  string
	}{
		{syscall.EEXIST, os.ErrExist, "already running"},
		{syscall.ESRCH, os.ErrNotExist, "not running"},
		{syscall.ENODEV, ErrNoInterface, "no such interface"},
		{syscall.EPERM, os.ErrPermission, "CAP_NET_ADMIN"},
		{syscall.EINVAL, ErrInvalidConfig, "refused"},
		{syscall.EAFNOSUPPORT, errors.ErrUnsupported, "IPv6"},
		{syscall.ENOPROTOOPT, ErrNoIPVS, "unloaded"},
	}
	for _, c := range cases {
		// netlink wraps an errno with the kernel's extended ack message.
		err := startError(Master, Config{Interface: "eth0"}, fmt.Errorf("%w: extack text", c.errno))
		if !errors.Is(err, c.is) || !errors.Is(err, c.errno) || !strings.Contains(err.Error(), c.says) ||
			!strings.Contains(err.Error(), `start master daemon on "eth0"`) {
			t.Errorf("%v mapped to %q; want errors.Is %v and %v, saying %q", c.errno, err, c.is, c.errno, c.says)
		}
	}
	if err := stopError(Backup, syscall.ESRCH); !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrNoInterface) {
		t.Errorf("stop ESRCH: %v", err)
	}
	other := errors.New("socket gone")
	if err := stopError(Backup, other); !errors.Is(err, other) {
		t.Errorf("a non-errno error is not kept: %v", err)
	}
}
