package ipvs

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	moby "github.com/moby/ipvs"
)

// The kernel reads an IPv4 netmask as 4 bytes in network order and an
// IPv6 one as the prefix length in host order; moby writes the uint32 we
// give it in host order.
func TestNetmaskEncoding(t *testing.T) {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], netmaskOf(24, false))
	if b != [4]byte{255, 255, 255, 0} {
		t.Errorf("/24 goes on the wire as %v, want 255.255.255.0", b)
	}
	binary.NativeEndian.PutUint32(b[:], netmaskOf(64, true))
	if binary.NativeEndian.Uint32(b[:]) != 64 {
		t.Errorf("IPv6 /64 goes on the wire as %v", b)
	}
	for bits := 0; bits <= 32; bits++ {
		if got := prefixOf(netmaskOf(bits, false), false); got != bits {
			t.Errorf("IPv4 /%d reads back as /%d", bits, got)
		}
	}
	for _, bits := range []int{1, 48, 64, 128} {
		if got := prefixOf(netmaskOf(bits, true), true); got != bits {
			t.Errorf("IPv6 /%d reads back as /%d", bits, got)
		}
	}
}

func TestMobyConversion(t *testing.T) {
	// Whatever Flags holds, only persistent (from Persistence) and the
	// scheduler flags are sent: never HASHED, never one-packet.
	s := web()
	s.Scheduler, s.Flags, s.Persistence, s.PersistenceBits = "sh", FlagHashed|FlagOnePacket|FlagSched2, 300*time.Second, 24
	ms, err := toMobyService(s)
	if err != nil {
		t.Fatal(err)
	}
	if ms.Flags != uint32(FlagPersistent|FlagSched2) || ms.Timeout != 300 || ms.AddressFamily != syscall.AF_INET ||
		!ms.Address.Equal(net.ParseIP("192.0.2.100")) || ms.Port != 80 || ms.Protocol != syscall.IPPROTO_TCP {
		t.Errorf("sent %+v", ms)
	}
	s.Persistence = 0
	if ms, _ := toMobyService(s); ms.Flags != uint32(FlagSched2) || ms.Timeout != 0 {
		t.Errorf("without persistence sent flags %#x timeout %d", ms.Flags, ms.Timeout)
	}
	ms, _ = toMobyService(Service{FWMark: 10, IPv6: true, Scheduler: "rr"})
	if ms.FWMark != 10 || ms.AddressFamily != syscall.AF_INET6 || ms.Netmask != 128 || ms.Address != nil {
		t.Errorf("fwmark IPv6 service sent as %+v (the kernel wants netmask 1..128 for IPv6)", ms)
	}

	// The kernel answers with HASHED set; the model never sees it.
	got, err := fromMobyService(&moby.Service{
		AddressFamily: syscall.AF_INET, Address: net.ParseIP("192.0.2.100").To4(), Port: 80, Protocol: syscall.IPPROTO_TCP,
		SchedName: "sh", Flags: uint32(FlagHashed | FlagPersistent | FlagSched2), Timeout: 300, Netmask: netmaskOf(24, false),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := web()
	want.Scheduler, want.Flags, want.Persistence, want.PersistenceBits = "sh", FlagSched2, 300*time.Second, 24
	if got != want {
		t.Errorf("read back as %+v, want %+v", got, want)
	}
	// A timeout without the persistent flag is not persistence.
	got, _ = fromMobyService(&moby.Service{AddressFamily: syscall.AF_INET, Address: net.ParseIP("192.0.2.100").To4(), Port: 80, Protocol: 6, SchedName: "wlc", Flags: uint32(FlagHashed), Timeout: 300, Netmask: ^uint32(0)})
	if got != web() {
		t.Errorf("read back as %+v, want %+v", got, web())
	}

	d6 := dst("2001:db8::21", 53, 4)
	d6.Forwarding = Tunnel
	md := toMobyDestination(d6)
	if md.AddressFamily != syscall.AF_INET6 || md.ConnectionFlags != moby.ConnFwdTunnel || md.Weight != 4 {
		t.Errorf("destination sent as %+v", md)
	}
	md.ConnectionFlags |= 0x100 // IP_VS_CONN_F_INACTIVE and friends come back too
	if back, err := fromMobyDestination(md); err != nil || back != d6 {
		t.Errorf("destination read back as %+v, %v; want %+v", back, err, d6)
	}
}

// The development host has no IPVS: Open must say so, and must say it
// before moby/ipvs runs modprobe.
func TestOpenWithoutIPVS(t *testing.T) {
	if _, err := os.Stat(procIPVS); err == nil {
		t.Skip("this kernel has IPVS; the VM tier covers Open")
	}
	k, err := Open("")
	if err == nil {
		k.Close()
		t.Fatal("Open succeeded on a kernel without IPVS")
	}
	if !errors.Is(err, ErrNoIPVS) || !strings.Contains(err.Error(), "modprobe ip_vs") {
		t.Errorf("Open: %v; want ErrNoIPVS with the fix", err)
	}
	if _, err := Connections(""); !errors.Is(err, ErrNoIPVS) {
		t.Errorf("Connections: %v; want ErrNoIPVS", err)
	}
}

func TestErrnoMapping(t *testing.T) {
	for _, tc := range []struct {
		errno syscall.Errno
		kind  OpKind
		is    error
		hint  string
	}{
		{syscall.ESRCH, OpDeleteService, os.ErrNotExist, "no such service"},
		{syscall.ENOENT, OpCreateService, os.ErrNotExist, "scheduler"},
		{syscall.ENOENT, OpDeleteDestination, os.ErrNotExist, "no such destination"},
		{syscall.EEXIST, OpCreateDestination, os.ErrExist, "already exists"},
		{syscall.EPERM, OpCreateService, os.ErrPermission, "CAP_NET_ADMIN"},
		{syscall.EACCES, OpUpdateService, os.ErrPermission, "CAP_NET_ADMIN"},
	} {
		err := opError(Op{Kind: tc.kind, Service: web(), Destination: rs1}, tc.errno)
		if !errors.Is(err, tc.is) || !errors.Is(err, tc.errno) || !strings.Contains(err.Error(), tc.hint) {
			t.Errorf("%v on %s: %v; want errors.Is %v and %q", tc.errno, tc.kind, err, tc.is, tc.hint)
		}
	}
}
