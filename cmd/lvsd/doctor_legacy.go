package main

import (
	"fmt"
	"strconv"
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
	maybe    string // a rule naming VRRP that drops it under other conditions
	accepted string // the rule that accepts it, with its caveat
	policy   string
	rules    int // of INPUT
}

// legacyTable is a filter table as iptables-legacy-save prints it.
type legacyTable struct {
	policy map[string]string     // built-in chain → policy
	rules  map[string][][]string // chain → rules, as words after "-A CHAIN"
}

// parseLegacySave reads the chains and rules of a save.
func parseLegacySave(save string) legacyTable {
	t := legacyTable{policy: map[string]string{}, rules: map[string][][]string{}}
	for _, line := range strings.Split(save, "\n") {
		line = strings.TrimSpace(line)
		if decl, ok := strings.CutPrefix(line, ":"); ok {
			f := strings.Fields(decl)
			if len(f) >= 2 {
				t.policy[f[0]] = f[1] // "-" for a user chain
				t.rules[f[0]] = t.rules[f[0]][:0:0]
			}
			continue
		}
		if rule, ok := strings.CutPrefix(line, "-A "); ok {
			f := legacyFields(rule)
			if len(f) > 1 {
				t.rules[f[0]] = append(t.rules[f[0]], f[1:])
			}
		}
	}
	return t
}

// legacyFields splits a saved rule into words: a double-quoted word (a
// comment) is one word, with \" and \\ inside.
func legacyFields(s string) []string {
	var out []string
	var b strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
			quoted, in = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}

// legacyJoin writes a rule's words back as the save has them.
func legacyJoin(f []string) string {
	out := make([]string, len(f))
	for i, w := range f {
		if w == "" || strings.ContainsAny(w, " \t\"\\") {
			w = strconv.Quote(w)
		}
		out[i] = w
	}
	return strings.Join(out, " ")
}

// legacyVRRP follows a VRRP advert arriving on iface through the INPUT
// chain of save, into the user chains it jumps to, as the nftables check
// does: matches it can decide (interface, protocol) it decides; a rule
// with other conditions counts only if it names VRRP itself, since
// otherwise every "-m state --state ESTABLISHED -j ACCEPT" and
// "-s … -j DROP" would be guessed at.
func legacyVRRP(save, iface string) legacyVerdict {
	t := parseLegacySave(save)
	v := legacyVerdict{policy: "ACCEPT", rules: len(t.rules["INPUT"])}
	if p := t.policy["INPUT"]; p != "" {
		v.policy = p
	}
	kind, by, conditional := t.eval("INPUT", iface, 0, &v)
	switch {
	case kind == "ACCEPT" && conditional:
		v.accepted = by + ", whose other conditions must let every peer's adverts through"
	case kind == "ACCEPT":
		v.accepted = by
	case kind == "DROP" && conditional:
		v.maybe = by
	case kind == "DROP":
		v.drop = by
	case v.policy == "DROP":
		v.drop = "the DROP policy of the INPUT chain"
	}
	return v
}

// eval runs chain for the advert: the verdict ("ACCEPT", "DROP" or ""
// when the chain ends or returns), the rule that gave it, and whether
// that rule had conditions doctor could not evaluate.
func (t legacyTable) eval(chain, iface string, depth int, v *legacyVerdict) (kind, by string, conditional bool) {
	if depth > 16 { // a loop of jumps: iptables refuses one, so a broken save
		return "", "", false
	}
	for _, f := range t.rules[chain] {
		r := legacyMatch(f, iface)
		if !r.matches || !r.sure && !r.namesVRRP {
			continue
		}
		by := "rule -A " + chain + " " + legacyJoin(f)
		switch r.target {
		case "ACCEPT":
			return "ACCEPT", by, !r.sure
		case "DROP", "REJECT":
			if !r.sure && v.maybe == "" {
				v.maybe = by // noted: a later rule may still decide for sure
				continue
			}
			return "DROP", by, !r.sure
		case "RETURN":
			if r.sure {
				return "", "", false
			}
		default:
			if _, user := t.rules[r.target]; user {
				if kind, by, cond := t.eval(r.target, iface, depth+1, v); kind != "" {
					return kind, by, cond || !r.sure
				}
			}
			// LOG, MARK and other targets without a verdict: on.
		}
	}
	return "", "", false
}

// legacyRule is what a saved rule is for a VRRP advert on one interface.
type legacyRule struct {
	matches   bool   // interface and protocol can match the advert
	sure      bool   // no other condition
	namesVRRP bool   // -p vrrp / -p 112
	target    string // -j or -g
}

// legacyMatch reads a rule's words (after "-A CHAIN").
func legacyMatch(f []string, iface string) legacyRule {
	r := legacyRule{matches: true, sure: true}
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
			r.target = arg
			return r // what follows are the target's options
		case "-i":
			if legacyIface(arg, iface) == neg {
				r.matches = false
			}
			i++
		case "-p":
			vrrp := arg == "vrrp" || arg == "112"
			if (vrrp || arg == "all" || arg == "0") == neg {
				r.matches = false
			}
			r.namesVRRP = vrrp && !neg
			i++
		case "-c": // counters: -c PKTS BYTES
			i += 2
		case "-m":
			if arg != "comment" {
				r.sure = false // a match module: a condition
			}
			i++
		case "--comment":
			i++
		default:
			// -s, -d, module options and their arguments: conditions
			// doctor does not evaluate.
			if strings.HasPrefix(f[i], "-") {
				r.sure = false
			}
		}
	}
	return r
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
