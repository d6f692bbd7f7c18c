package ipvs

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// capturedConns is /proc/net/ip_vs_conn of the VM test's NAT director
// (test/vm/ipvsguest TestConnectionTable and
// TestConnectionSurvivesRestartAndUpdate), Linux 6.1: an IPv6 TCP
// connection, a UDP flow to a persistent service with its template (client
// network under the /24 netmask, port 0), and an IPv4 TCP connection.
const capturedConns = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 2001:0db8:000c:0000:0000:0000:0000:0002 CF20 2001:0db8:0000:0000:0000:0000:0000:0100 0050 2001:0db8:000d:0000:0000:0000:0000:0021 1F90 ESTABLISHED     899
UDP CB007102 D44E C0000264 0035 C6336415 14E9 UDP             299
UDP CB007100 0000 C0000264 0035 C6336415 14E9 ASSURED          59
TCP CB007102 D520 C0000264 0050 C6336415 1F90 ESTABLISHED     899
`

func TestParseConnections(t *testing.T) {
	ap := netip.MustParseAddrPort
	got, err := ParseConnections(strings.NewReader(capturedConns))
	if err != nil {
		t.Fatal(err)
	}
	want := []Connection{
		{TCP, ap("[2001:db8:c::2]:53024"), ap("[2001:db8::100]:80"), ap("[2001:db8:d::21]:8080"), "ESTABLISHED", 899 * time.Second, "", ""},
		{UDP, ap("203.0.113.2:54350"), ap("192.0.2.100:53"), ap("198.51.100.21:5353"), "UDP", 299 * time.Second, "", ""},
		{UDP, ap("203.0.113.0:0"), ap("192.0.2.100:53"), ap("198.51.100.21:5353"), "ASSURED", 59 * time.Second, "", ""},
		{TCP, ap("203.0.113.2:54560"), ap("192.0.2.100:80"), ap("198.51.100.21:8080"), "ESTABLISHED", 899 * time.Second, "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d connections, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n\tgot  %+v\n\twant %+v", i+2, got[i], want[i])
		}
	}
}

// Lines the VM did not produce, written to the kernel's format
// (ip_vs_conn_seq_show): a persistence engine's data, a protocol by
// number, an fwmark template (protocol IP), an IPv6 service with an IPv4
// real server.
func TestParseConnectionsFormats(t *testing.T) {
	ap := netip.MustParseAddrPort
	text := "UDP CB007102 13C4 C0000264 13C4 C6336415 13C4 UDP             179 sip 1234@example.org\n" +
		"IP_99 CB007102 0000 C0000264 0000 C6336415 0000 NONE        10\n" +
		"IP  CB007102 0000 00000000 000A C6336415 0000 NONE            359\n" +
		"TCP 2001:0db8:000c:0000:0000:0000:0000:0002 CF20 2001:0db8:0000:0000:0000:0000:0000:0100 0050 C6336415 0050 SYN_RECV         59\n"
	got, err := ParseConnections(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []Connection{
		{UDP, ap("203.0.113.2:5060"), ap("192.0.2.100:5060"), ap("198.51.100.21:5060"), "UDP", 179 * time.Second, "sip", "1234@example.org"},
		{Protocol(99), ap("203.0.113.2:0"), ap("192.0.2.100:0"), ap("198.51.100.21:0"), "NONE", 10 * time.Second, "", ""},
		{Protocol(0), ap("203.0.113.2:0"), ap("0.0.0.0:10"), ap("198.51.100.21:0"), "NONE", 359 * time.Second, "", ""},
		{TCP, ap("[2001:db8:c::2]:53024"), ap("[2001:db8::100]:80"), ap("198.51.100.21:80"), "SYN_RECV", 59 * time.Second, "", ""},
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i+1, got, want[i])
		}
	}

	for _, bad := range []string{
		"TCP CB007102 D520 C0000264 0050 C6336415 1F90 ESTABLISHED\n",       // no expiry
		"XYZ CB007102 D520 C0000264 0050 C6336415 1F90 ESTABLISHED 899\n",   // protocol
		"TCP CB0071 D520 C0000264 0050 C6336415 1F90 ESTABLISHED 899\n",     // short address
		"TCP CB007102 D52000 C0000264 0050 C6336415 1F90 ESTABLISHED 899\n", // port
		"TCP 2001:db8::zz D520 C0000264 0050 C6336415 1F90 ESTABLISHED 899\n",
	} {
		if _, err := ParseConnections(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: error %v, want one naming line 1", bad, err)
		}
	}
}
