package lab

import (
	"slices"
	"testing"
)

// TestParseIpvsadm reads `ipvsadm -Ln` as ipvsadm 1.31 prints it: a
// service with flags and persistence, an IPv6 fwmark service, and
// destinations under each.
func TestParseIpvsadm(t *testing.T) {
	out := `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.0.2.100:443 sh (sh-port,sh-fallback) persistent 300 mask 255.255.255.0
  -> 192.0.2.21:443               Route   1      0          0
TCP  192.0.2.100:80 wrr
  -> 192.0.2.21:80                Route   5      2          7
  -> 192.0.2.22:80                Route   2      0          0
FWM  9 IPv6 lc
`
	svcs, err := ParseIpvsadm(out)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range svcs {
		lines = append(lines, s.String())
		for _, d := range s.Destinations {
			lines = append(lines, d.String())
		}
	}
	want := []string{
		"TCP 192.0.2.100:443 sh (sh-port,sh-fallback) persistent 300 mask 255.255.255.0",
		"-> 192.0.2.21:443 Route 1",
		"TCP 192.0.2.100:80 wrr",
		"-> 192.0.2.21:80 Route 5",
		"-> 192.0.2.22:80 Route 2",
		"FWM 9 IPv6 lc",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got\n%q\nwant\n%q", lines, want)
	}
	if d := svcs[1].Destinations[0]; d.Active != 2 || d.Inactive != 7 {
		t.Errorf("counters of %v: %d active, %d inactive; want 2, 7", d, d.Active, d.Inactive)
	}
	if _, err := ParseIpvsadm("  -> 192.0.2.21:80 Route 1 0 0\n"); err == nil {
		t.Error("a destination before any service is accepted")
	}
}
