package ipvs

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// The VM test compares lvsd ipvs with ipvsadm byte for byte; these pin
// what a small table there never reaches.
func TestIPVSFormatting(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "       0", 99_999_999: "99999999", 100_000_000: " 100000K",
		123_456_789_012: " 123456M", 100_000_000_000_000: " 100000G",
	} {
		if got := largeNum(n); got != want {
			t.Errorf("largeNum(%d) = %q, want %q", n, got, want)
		}
	}
	for bits, want := range map[int]string{24: "255.255.255.0", 20: "255.255.240.0", 1: "128.0.0.0"} {
		if got := maskString(bits); got != want {
			t.Errorf("maskString(%d) = %q, want %q", bits, got, want)
		}
	}
	var b bytes.Buffer
	WriteTable(&b, "IP Virtual Server version 1.2.1 (size=4096)", []ServiceStats{{
		Service: Service{Address: netip.MustParseAddr("192.0.2.100"), Port: 80, Protocol: TCP, Scheduler: "wlc",
			Persistence: 300 * time.Second, PersistenceBits: 32},
		Destinations: []DestinationStats{{Destination: Destination{Address: netip.MustParseAddr("192.0.2.21"), Port: 80, Weight: 3, Forwarding: Direct}, ActiveConns: 12, InactiveConns: 3}},
	}}, TableDefault)
	want := "IP Virtual Server version 1.2.1 (size=4096)\n" +
		"Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
		"TCP  192.0.2.100:80 wlc persistent 300\n" +
		"  -> 192.0.2.21:80                Route   3      12         3         \n"
	if b.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", b.String(), want)
	}
}
