package doctor

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// The firewall package's tests follow VRRP through rulesets; these hold
// how doctor reports each kind of verdict, once per interface and
// family.

// nftInput is `nft -j list ruleset` with one inet filter input chain of
// policy, and rules of the expressions given, with handles from 2.
func nftInput(policy string, rules ...string) string {
	objs := []string{fmt.Sprintf(`{"chain":{"family":"inet","table":"filter","name":"input","handle":1,"type":"filter","hook":"input","prio":0,"policy":%q}}`, policy)}
	for i, r := range rules {
		objs = append(objs, fmt.Sprintf(`{"rule":{"family":"inet","table":"filter","chain":"input","handle":%d,"expr":[%s]}}`, i+2, r))
	}
	return `{"nftables":[` + strings.Join(objs, ",") + `]}`
}

const (
	nftVRRPDrop       = `{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"protocol"}},"right":"vrrp"}},{"drop":null}`
	nftVRRPAccept     = `{"match":{"op":"==","left":{"meta":{"key":"l4proto"}},"right":"vrrp"}},{"accept":null}`
	nftPeerVRRPDrop   = `{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"192.0.2.12"}},` + nftVRRPDrop
	nftPeerVRRPAccept = `{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"192.0.2.12"}},` + nftVRRPAccept
)

func TestDoctorFirewall(t *testing.T) {
	twoChains := strings.Replace(nftInput("drop"), `]}`, `,{"chain":{"family":"ip","table":"raw","name":"pre","handle":1,"type":"filter","hook":"prerouting","prio":0,"policy":"drop"}}]}`, 1)
	cases := []struct {
		name    string
		ruleset string
		v6      bool
		sev     Severity
		text    []string
	}{
		{"empty", docGoodDirector().ruleset, false, OK, []string{"nftables has no input chains: VRRP (IPv4) arriving on eth0 is not filtered"}},
		{"empty, IPv6", docGoodDirector().ruleset, true, OK, []string{"nftables has no input chains: VRRP (IPv6) arriving on eth0 is not filtered"}},
		{"one chain", nftInput("accept"), false, OK, []string{"nftables does not drop VRRP (IPv4) arriving on eth0 (1 input chain inspected)"}},
		{"two chains", strings.Replace(twoChains, `"policy":"drop"`, `"policy":"accept"`, -1), false, OK, []string{"nftables does not drop VRRP (IPv4) arriving on eth0 (2 input chains inspected)"}},
		{"drops", nftInput("accept", nftVRRPDrop), false, Problem, []string{
			"PROBLEM: nftables drops VRRP (IPv4, IP protocol 112) arriving on eth0: rule handle 2 of chain inet filter input; the peer's adverts never reach lvsd and both directors become MASTER (keep the fix in /etc/nftables.conf) — fix: nft insert rule inet filter input iifname eth0 meta l4proto vrrp accept"}},
		{"drops in two chains", twoChains, false, Problem, []string{
			"drops VRRP (IPv4, IP protocol 112) arriving on eth0: the drop policy of chain inet filter input;",
			"fix: nft insert rule inet filter input iifname eth0 meta l4proto vrrp accept && nft insert rule ip raw pre iifname eth0 ip protocol vrrp accept"}},
		{"drops IPv6", nftInput("drop"), true, Problem, []string{"nftables drops VRRP (IPv6, IP protocol 112) arriving on eth0: the drop policy of chain inet filter input"}},
		{"may drop", nftInput("accept", nftPeerVRRPDrop), false, Warning, []string{
			"warning: nftables may drop VRRP (IPv4) arriving on eth0: rule handle 2 of chain inet filter input, under conditions doctor cannot evaluate; make sure the peers' adverts pass — fix: nft -a list ruleset"}},
		{"accepts", nftInput("drop", nftVRRPAccept), false, OK, []string{"ok: nftables accepts VRRP (IPv4) arriving on eth0 by rule handle 2 of chain inet filter input"}},
		{"accepts from the peer", nftInput("drop", nftPeerVRRPAccept), false, OK, []string{
			"ok: nftables accepts VRRP (IPv4) arriving on eth0 by rule handle 2 of chain inet filter input, whose other conditions must let every peer's adverts through"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, cfg := docGoodDirector(), docDRConfig()
			host.ruleset = c.ruleset
			if c.v6 {
				cfg.Instances[0].VIPs = []netip.Prefix{docPrefix("2001:db8::100/64")}
			}
			// A second instance on the same link and family: still one finding.
			cfg.Instances = append(cfg.Instances, cfg.Instances[0])
			cfg.Instances[1].Name, cfg.Instances[1].VRID = "VI_2", 52
			fs := docReport(t, host, func(d *doctor) { d.checkFirewall(cfg) })
			docWant(t, fs, c.sev, c.text...)
			if len(fs) != 1 {
				t.Errorf("%d findings, want 1", len(fs))
			}
		})
	}
}

func TestDoctorLegacyFirewall(t *testing.T) {
	save := func(policy string, rules ...string) string {
		s := "*filter\n:INPUT " + policy + " [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		for _, r := range rules {
			s += r + "\n"
		}
		return s + "COMMIT\n"
	}
	cases := []struct {
		name string
		save string
		v6   bool
		sev  Severity
		text []string
	}{
		{"empty", save("ACCEPT"), false, OK, []string{"ok: legacy iptables does not drop VRRP (IPv4) arriving on eth0 (INPUT policy ACCEPT, 0 rules)"}},
		{"one rule", save("ACCEPT", "-A INPUT -p tcp -j DROP"), false, OK, []string{"does not drop VRRP (IPv4) arriving on eth0 (INPUT policy ACCEPT, 1 rule)"}},
		{"drop policy", save("DROP"), false, Problem, []string{
			"PROBLEM: legacy iptables drops VRRP (IPv4, IP protocol 112) arriving on eth0: the DROP policy of the INPUT chain; the peer's adverts never reach lvsd and both directors become MASTER (keep the fix where the host restores its rules) — fix: iptables-legacy -I INPUT -i eth0 -p 112 -j ACCEPT"}},
		{"may drop", save("ACCEPT", "-A INPUT -s 198.51.100.0/24 -p vrrp -j DROP"), false, Warning, []string{
			"warning: legacy iptables may drop VRRP (IPv4) arriving on eth0: rule -A INPUT -s 198.51.100.0/24 -p vrrp -j DROP, under conditions doctor cannot evaluate; make sure the peers' adverts pass — fix: iptables-legacy-save -t filter"}},
		{"accepts", save("DROP", "-A INPUT -i eth0 -p vrrp -j ACCEPT"), false, OK, []string{"ok: legacy iptables accepts VRRP (IPv4) arriving on eth0 by rule -A INPUT -i eth0 -p vrrp -j ACCEPT"}},
		{"IPv6", save("DROP"), true, Problem, []string{"drops VRRP (IPv6", "fix: ip6tables-legacy -I INPUT -i eth0 -p 112 -j ACCEPT"}},
		{"IPv6 may drop", save("ACCEPT", "-A INPUT -s 2001:db8::/64 -p vrrp -j DROP"), true, Warning, []string{"may drop VRRP (IPv6)", "fix: ip6tables-legacy-save -t filter"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, cfg := docGoodDirector(), docDRConfig()
			host.legacy[0] = LegacyFilter{Loaded: true, Save: c.save}
			if c.v6 {
				host.legacy = [2]LegacyFilter{{}, {Loaded: true, Save: c.save}}
				cfg.Instances[0].VIPs = []netip.Prefix{docPrefix("2001:db8::100/64")}
			}
			cfg.Instances = append(cfg.Instances, cfg.Instances[0])
			cfg.Instances[1].Name, cfg.Instances[1].VRID = "VI_2", 52
			fs := docReport(t, host, func(d *doctor) { d.checkLegacyFirewall(cfg) })
			docWant(t, fs, c.sev, c.text...)
			if len(fs) != 1 {
				t.Errorf("%d findings, want 1", len(fs))
			}
		})
	}
	// No legacy table: nothing to say. One that cannot be read: say so.
	host := docGoodDirector()
	if fs := docReport(t, host, func(d *doctor) { d.checkLegacyFirewall(docDRConfig()) }); len(fs) != 0 {
		t.Errorf("findings without legacy tables: %v", fs)
	}
	host.legacyErr = errors.New("the kernel has a legacy filter table but iptables-legacy-save is not installed (apt install iptables) to read it")
	fs := docReport(t, host, func(d *doctor) { d.checkLegacyFirewall(docDRConfig()) })
	docWant(t, fs, Warning, "legacy iptables check for VRRP (IPv4) skipped", "apt install iptables")
}

func TestDoctorFirewallSkipped(t *testing.T) {
	host := docGoodDirector()
	host.rulesetErr = errors.New("nft is not installed")
	fs := docReport(t, host, func(d *doctor) { d.checkFirewall(docDRConfig()) })
	docWant(t, fs, Warning, "firewall check for VRRP (IP protocol 112) skipped: nft is not installed")

	host.rulesetErr, host.ruleset = nil, "not json"
	fs = docReport(t, host, func(d *doctor) { d.checkFirewall(docDRConfig()) })
	docWant(t, fs, Warning, "firewall check for VRRP skipped")
}
