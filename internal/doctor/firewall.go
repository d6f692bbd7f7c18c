package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/internal/doctor/firewall"
)

// VRRP is IP protocol 112; an input policy that drops what it does not
// know drops the peer's adverts and both directors become MASTER. The
// firewall package follows an advert through nftables and through the
// legacy iptables tables, which filter apart from each other; these
// checks report its verdicts.

// checkFirewall reports what nftables does to VRRP on each instance's
// interface.
func (d *doctor) checkFirewall(cfg *conf.Config) {
	if len(cfg.Instances) == 0 {
		return
	}
	data, err := d.host.Ruleset()
	if err != nil {
		d.warn("", "firewall check for VRRP (IP protocol 112) skipped: %v", err)
		return
	}
	rs, err := firewall.ParseRuleset(data)
	if err != nil {
		d.warn("nft list ruleset", "firewall check for VRRP skipped: cannot read the output of nft -j list ruleset: %v", err)
		return
	}
	nft := firewallReport{name: "nftables", keep: "in /etc/nftables.conf", show: "nft -a list ruleset"}
	for _, p := range vrrpPackets(cfg) {
		v := rs.VRRP(p)
		fam := family(p.IPv6)
		clean := fmt.Sprintf("nftables does not drop VRRP (%s) arriving on %s (%d input %s inspected)", fam, p.Interface, v.Chains, plural(v.Chains, "chain", "chains"))
		if v.Chains == 0 {
			clean = fmt.Sprintf("nftables has no input chains: VRRP (%s) arriving on %s is not filtered", fam, p.Interface)
		}
		d.reportVRRP(nft, p, v, clean)
	}
}

// checkLegacyFirewall reports what legacy iptables does to VRRP on each
// instance's interface; a host without the legacy tables gets no finding.
func (d *doctor) checkLegacyFirewall(cfg *conf.Config) {
	for _, p := range vrrpPackets(cfg) {
		fam, tool := family(p.IPv6), firewall.LegacyCommand(p.IPv6)
		lf, err := d.host.LegacyFilter(p.IPv6)
		if err != nil {
			d.warn("", "legacy iptables check for VRRP (%s) skipped: %v", fam, err)
			continue
		}
		if !lf.Loaded {
			continue
		}
		t := firewall.ParseLegacySave(lf.Save)
		policy, rules := t.Input()
		legacy := firewallReport{name: "legacy iptables", keep: "where the host restores its rules", show: tool + "-save -t filter"}
		d.reportVRRP(legacy, p, t.VRRP(p),
			fmt.Sprintf("legacy iptables does not drop VRRP (%s) arriving on %s (INPUT policy %s, %d %s)", fam, p.Interface, policy, rules, plural(rules, "rule", "rules")))
	}
}

// vrrpPackets are the adverts the instances of cfg receive: one per
// interface and family, in the order of the instances.
func vrrpPackets(cfg *conf.Config) []firewall.Packet {
	var out []firewall.Packet
	for _, in := range cfg.Instances {
		p := firewall.Packet{Interface: in.Interface, IPv6: in.IPv6()}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func family(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}

// firewallReport is how one firewall's verdicts read.
type firewallReport struct {
	name string // "nftables"
	keep string // where the operator keeps the fix
	show string // the command that lists the rules
}

// reportVRRP writes the finding of one verdict; clean is the line for a
// firewall that neither drops nor accepts VRRP by name.
func (d *doctor) reportVRRP(fw firewallReport, p firewall.Packet, v firewall.Verdict, clean string) {
	fam := family(p.IPv6)
	switch {
	case len(v.Drops) > 0:
		var fixes []string
		for _, c := range v.Drops {
			fixes = append(fixes, c.Fix)
		}
		d.problem(strings.Join(fixes, " && "), "%s drops VRRP (%s, IP protocol 112) arriving on %s: %s; the peer's adverts never reach lvsd and both directors become MASTER (keep the fix %s)",
			fw.name, fam, p.Interface, v.Drops[0].By, fw.keep)
	case len(v.Maybe) > 0:
		d.warn(fw.show, "%s may drop VRRP (%s) arriving on %s: %s, under conditions doctor cannot evaluate; make sure the peers' adverts pass", fw.name, fam, p.Interface, v.Maybe[0])
	case len(v.Accepted) > 0:
		d.ok("%s accepts VRRP (%s) arriving on %s by %s", fw.name, fam, p.Interface, v.Accepted[0])
	default:
		d.ok("%s", clean)
	}
}
