package main

import (
	"fmt"
	"strings"

	"github.com/lvsd/lvsd/conf"
)

// Legacy iptables (the x_tables kernel tables, not nftables) filter
// input apart from nftables: a host still on iptables-legacy can drop
// VRRP while `nft list ruleset` shows nothing. doctor reads the filter
// table's INPUT chain as iptables-legacy-save prints it and follows a
// VRRP advert through it, as it does for nftables.

// legacyFilter is the legacy filter table of one family.
type legacyFilter struct {
	Loaded bool   // the kernel has the table (ip_tables_names lists filter)
	Save   string // `iptables-legacy-save -t filter`; empty when not loaded
}

// legacyVerdict is what the INPUT chain does to a VRRP advert.
type legacyVerdict struct {
	drop     string // the policy or rule that drops it for sure
	maybe    string // a rule that may drop it (other conditions, a jump)
	accepted string // the rule that accepts it
	policy   string
	rules    int
}

// legacyVRRP follows a VRRP advert arriving on iface through the INPUT
// chain of save: rules in order, the first that surely matches decides.
func legacyVRRP(save, iface string) legacyVerdict {
	v := legacyVerdict{policy: "ACCEPT"}
	for _, line := range strings.Split(save, "\n") {
		line = strings.TrimSpace(line)
		if p, ok := strings.CutPrefix(line, ":INPUT "); ok {
			v.policy, _, _ = strings.Cut(p, " ")
			continue
		}
		rule, ok := strings.CutPrefix(line, "-A INPUT ")
		if !ok {
			continue
		}
		v.rules++
		matches, sure, target := legacyMatch(strings.Fields(rule), iface)
		if !matches {
			continue
		}
		switch target {
		case "ACCEPT":
			if sure {
				v.accepted = "-A INPUT " + rule
				return v
			}
		case "DROP", "REJECT":
			if sure {
				v.drop = "rule -A INPUT " + rule
				return v
			}
			if v.maybe == "" {
				v.maybe = "rule -A INPUT " + rule
			}
		case "LOG", "NFLOG", "": // no verdict: the next rule decides
		default: // a user chain or another target: not followed
			if v.maybe == "" {
				v.maybe = "rule -A INPUT " + rule + " (chain " + target + " not followed)"
			}
		}
	}
	if v.policy == "DROP" && v.accepted == "" {
		v.drop = "the DROP policy of the INPUT chain"
	}
	return v
}

// legacyMatch says whether a rule can match a VRRP advert arriving on
// iface, whether it surely does (no other condition), and its target.
func legacyMatch(f []string, iface string) (matches, sure bool, target string) {
	matches, sure = true, true
	for i := 0; i < len(f); i++ {
		neg := false
		if f[i] == "!" && i+1 < len(f) {
			neg, i = true, i+1
		}
		arg := ""
		if i+1 < len(f) {
			arg = f[i+1]
		}
		switch f[i] {
		case "-j", "-g":
			return matches, sure, arg // what follows are the target's options
		case "-i":
			if legacyIface(arg, iface) == neg {
				matches = false
			}
			i++
		case "-p":
			vrrp := arg == "vrrp" || arg == "112" || arg == "all" || arg == "0"
			if vrrp == neg {
				matches = false
			}
			i++
		case "-c": // counters: -c PKTS BYTES
			i += 2
		case "-m":
			if arg != "comment" {
				sure = false // a match module: a condition
			}
			i++
		case "--comment": // its words follow; they are no condition
			i++
		default:
			// -s, -d, -m state ... and their arguments: conditions doctor
			// does not evaluate.
			if strings.HasPrefix(f[i], "-") {
				sure = false
			}
		}
	}
	return matches, sure, target
}

// legacyIface matches iptables' -i argument, where a trailing + is a
// prefix wildcard.
func legacyIface(pattern, iface string) bool {
	if p, ok := strings.CutSuffix(pattern, "+"); ok {
		return strings.HasPrefix(iface, p)
	}
	return pattern == iface
}

// checkLegacyFirewall reports what legacy iptables does to VRRP on each
// instance's interface; a host without the legacy tables gets no finding.
func (d *doctor) checkLegacyFirewall(cfg *conf.Config) {
	done := map[[2]string]bool{}
	for _, in := range cfg.Instances {
		fam, tool := "IPv4", "iptables-legacy"
		if in.IPv6() {
			fam, tool = "IPv6", "ip6tables-legacy"
		}
		key := [2]string{in.Interface, fam}
		if done[key] {
			continue
		}
		done[key] = true
		lf, err := d.host.LegacyFilter(in.IPv6())
		if err != nil {
			d.warn("", "legacy iptables check for VRRP (%s) skipped: %v", fam, err)
			continue
		}
		if !lf.Loaded {
			continue
		}
		v := legacyVRRP(lf.Save, in.Interface)
		fix := fmt.Sprintf("%s -I INPUT -i %s -p 112 -j ACCEPT", tool, in.Interface)
		switch {
		case v.drop != "":
			d.problem(fix, "legacy iptables drops VRRP (%s, IP protocol 112) arriving on %s: %s; the peer's adverts never reach lvsd and both directors become MASTER (keep the fix where the host restores its rules)",
				fam, in.Interface, v.drop)
		case v.maybe != "":
			d.warn(tool+"-save -t filter", "legacy iptables may drop VRRP (%s) arriving on %s: %s, under conditions doctor cannot evaluate; make sure the peers' adverts pass", fam, in.Interface, v.maybe)
		case v.accepted != "":
			d.ok("legacy iptables accepts VRRP (%s) arriving on %s by %s", fam, in.Interface, v.accepted)
		default:
			d.ok("legacy iptables does not drop VRRP (%s) arriving on %s (INPUT policy %s, %d %s)", fam, in.Interface, v.policy, v.rules, plural(v.rules, "rule", "rules"))
		}
	}
}
