package firewall

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Legacy iptables (the x_tables kernel tables, not nftables) filter
// input apart from nftables: a host still on iptables-legacy can drop
// VRRP while `nft list ruleset` shows nothing. The legacy evaluator
// reads the filter table's INPUT chain as iptables-legacy-save prints
// it and follows a VRRP advert through it, into the user chains it jumps
// to, as the nftables one does: matches it can decide (interface,
// protocol) it decides; a rule with other conditions counts only if it
// names VRRP itself, since otherwise every
// "-m state --state ESTABLISHED -j ACCEPT" and "-s … -j DROP" would be
// guessed at.

// LegacyCommand is the legacy iptables command of a family
// ("iptables-legacy", "ip6tables-legacy"); its -save reads the table.
func LegacyCommand(v6 bool) string {
	if v6 {
		return "ip6tables-legacy"
	}
	return "iptables-legacy"
}

// LegacyTable is a filter table as iptables-legacy-save prints it.
type LegacyTable struct {
	policy map[string]string     // built-in chain → policy
	rules  map[string][][]string // chain → rules, as words after "-A CHAIN"
}

// ParseLegacySave reads the chains and rules of `iptables-legacy-save
// -t filter`.
func ParseLegacySave(save string) *LegacyTable {
	t := &LegacyTable{policy: map[string]string{}, rules: map[string][][]string{}}
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

// Input is the policy of the INPUT chain (ACCEPT when the save has
// none) and how many rules it has.
func (t *LegacyTable) Input() (policy string, rules int) {
	return cmp.Or(t.policy["INPUT"], "ACCEPT"), len(t.rules["INPUT"])
}

// VRRP follows p through the INPUT chain.
func (t *LegacyTable) VRRP(p Packet) Verdict {
	v := Verdict{Chains: 1}
	var noted string // the first rule naming VRRP that may drop it
	o := t.eval("INPUT", p.Interface, 0, &noted)
	if policy, _ := t.Input(); o.action == none && policy == "DROP" {
		o = outcome{action: drop, by: "the DROP policy of the INPUT chain"}
	}
	v.add(o, fmt.Sprintf("%s -I INPUT -i %s -p 112 -j ACCEPT", LegacyCommand(p.IPv6), p.Interface))
	if noted != "" && len(v.Maybe) == 0 {
		v.Maybe = []string{noted}
	}
	return v
}

// eval runs chain for the advert: how it ends, by which rule, and
// whether that rule had conditions the evaluator could not tell. A
// conditional drop naming VRRP is noted and passed: a later rule may
// still decide for sure.
func (t *LegacyTable) eval(chain, iface string, depth int, noted *string) outcome {
	if depth > 16 { // a loop of jumps: iptables refuses one, so a broken save
		return outcome{}
	}
	for _, f := range t.rules[chain] {
		r := legacyMatch(f, iface)
		if !r.matches || !r.sure && !r.namesVRRP {
			continue
		}
		by := "rule -A " + chain + " " + legacyJoin(f)
		switch r.target {
		case "ACCEPT":
			return outcome{action: accept, by: by, conditional: !r.sure}
		case "DROP", "REJECT":
			if !r.sure && *noted == "" {
				*noted = by
				continue
			}
			return outcome{action: drop, by: by, conditional: !r.sure}
		case "RETURN":
			if r.sure {
				return outcome{}
			}
		default:
			if _, user := t.rules[r.target]; user {
				if o := t.eval(r.target, iface, depth+1, noted); o.action != none {
					o.conditional = o.conditional || !r.sure
					return o
				}
			}
			// LOG, MARK and other targets without a verdict: on.
		}
	}
	return outcome{}
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
			// the evaluator does not tell.
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
