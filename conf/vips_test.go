package conf

import (
	"fmt"
	"strings"
	"testing"
)

// TestManyVIPsWarning: more VIPs than an advert lists is valid (they are
// all held) with a warning at the first one left out (line 5 + 255:
// one VIP a line); not a host problem.
func TestManyVIPsWarning(t *testing.T) {
	vips := func(n int, v6 bool) string {
		var b strings.Builder
		for i := range n {
			if v6 {
				fmt.Fprintf(&b, "%q, ", fmt.Sprintf("2001:db8::%x/64", i+1))
			} else {
				fmt.Fprintf(&b, "%q, ", fmt.Sprintf("10.0.%d.%d/16", i/250, i%250+1))
			}
		}
		return b.String()
	}
	for _, c := range []struct {
		name string
		n    int
		v6   bool
		want string
	}{
		{"255 IPv4", 255, false, ""},
		{"300 IPv4", 300, false, `many.hcl:260,1: warning: Only the first 255 of 300 virtual IPs are advertised; an advert counts its addresses in 8 bits (RFC 5798 §5.2.5); the instance holds all 300 while master, but its adverts list only the first 255, as keepalived's do (move the others to virtual_ips_excluded to say so)`},
		{"90 IPv6", 90, true, ""},
		{"91 IPv6", 91, true, `many.hcl:95,1: warning: Only the first 90 of 91 virtual IPs are advertised; that is what fits in one advert on an interface with MTU 1500; the instance holds all 91 while master, but its adverts list only the first 90, as keepalived's do (move the others to virtual_ips_excluded to say so)`},
	} {
		src := "vrrp \"VI_1\" {\n  interface = \"eth0\"\n  virtual_router_id = 51\n  virtual_ips = [\n" +
			strings.ReplaceAll(vips(c.n, c.v6), ", ", ",\n") + "  ]\n}\n"
		cfg, diags := Parse([]byte(src), "many.hcl", labHost)
		if cfg == nil || diags.HasErrors() {
			t.Errorf("%s: want valid, got %v", c.name, diags)
			continue
		}
		if len(cfg.Instances[0].VIPs) != c.n {
			t.Errorf("%s: %d VIPs held, want %d", c.name, len(cfg.Instances[0].VIPs), c.n)
		}
		var got string
		for _, d := range diags {
			if IsHostProblem(d) {
				t.Errorf("%s: marked as a host problem: %s", c.name, FormatDiagnostic(d))
			}
			got = FormatDiagnostic(d)
		}
		if len(diags) > 1 || got != c.want {
			t.Errorf("%s: diagnostics %v, want %q", c.name, diags, c.want)
		}
	}
}
