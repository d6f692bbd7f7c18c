package firewall

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lvsd/lvsd/vrrp"
)

// The nftables evaluator reads `nft -j list ruleset` and follows a VRRP
// packet through every base chain that can drop it before it reaches a
// socket: filter chains on the prerouting, input and ingress hooks.
// Matches it can decide (the protocol, the family, the input interface)
// it decides; a rule with other conditions counts only if it names VRRP
// itself, since otherwise every `ct state established accept` and
// `ip saddr … drop` would be guessed at.

// Ruleset is an nftables ruleset: its chains and their rules.
type Ruleset struct {
	chains map[nftChainKey]*nftChain
	base   []*nftChain // the chains on a hook, in the order nft lists them
}

type nftChainKey struct{ family, table, name string }

func (k nftChainKey) String() string { return k.family + " " + k.table + " " + k.name }

type nftChain struct {
	key    nftChainKey
	typ    string
	hook   string
	policy string
	devs   []string
	rules  []nftRule
}

type nftRule struct {
	handle int
	exprs  []map[string]json.RawMessage
}

// ParseRuleset reads the output of `nft -j list ruleset`.
func ParseRuleset(data []byte) (*Ruleset, error) {
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	rs := &Ruleset{chains: map[nftChainKey]*nftChain{}}
	var rules []struct {
		Family, Table, Chain string
		Handle               int
		Expr                 []map[string]json.RawMessage
	}
	for _, obj := range doc.Nftables {
		if raw, ok := obj["chain"]; ok {
			var c struct {
				Family, Table, Name, Type, Hook, Policy string
				Dev                                     json.RawMessage
			}
			if err := json.Unmarshal(raw, &c); err != nil {
				return nil, fmt.Errorf("chain: %w", err)
			}
			ch := &nftChain{key: nftChainKey{c.Family, c.Table, c.Name}, typ: c.Type, hook: c.Hook, policy: c.Policy}
			if len(c.Dev) > 0 {
				// One device is a string, several a list.
				var one string
				if json.Unmarshal(c.Dev, &one) == nil {
					ch.devs = []string{one}
				} else {
					json.Unmarshal(c.Dev, &ch.devs)
				}
			}
			rs.chains[ch.key] = ch
			if ch.hook != "" {
				rs.base = append(rs.base, ch)
			}
		}
		if raw, ok := obj["rule"]; ok {
			var r struct {
				Family, Table, Chain string
				Handle               int
				Expr                 []map[string]json.RawMessage
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, fmt.Errorf("rule: %w", err)
			}
			rules = append(rules, r)
		}
	}
	// Rules may come before their chain's declaration: attach them last.
	for _, r := range rules {
		if c := rs.chains[nftChainKey{r.Family, r.Table, r.Chain}]; c != nil {
			c.rules = append(c.rules, nftRule{handle: r.Handle, exprs: r.Expr})
		}
	}
	return rs, nil
}

// tri is a condition's truth for the packet: some conditions (a source
// address, a connection state) cannot be told.
type tri uint8

const (
	no tri = iota
	maybe
	yes
)

func (t tri) and(u tri) tri { return min(t, u) }

func (t tri) not() tri { return yes - t }

// VRRP follows p through every base chain it passes.
func (rs *Ruleset) VRRP(p Packet) Verdict {
	var out Verdict
	for _, c := range rs.base {
		if !c.sees(p) {
			continue
		}
		out.Chains++
		o := rs.eval(c, p, 0)
		if o.action == none {
			if c.policy != "drop" {
				continue
			}
			o = outcome{action: drop, by: "the drop policy of chain " + c.key.String()}
		}
		out.add(o, c.acceptFix(p))
	}
	return out
}

// sees reports whether the packet passes through the base chain.
func (c *nftChain) sees(p Packet) bool {
	if c.typ != "filter" {
		return false
	}
	switch c.key.family {
	case "ip":
		if p.IPv6 {
			return false
		}
	case "ip6":
		if !p.IPv6 {
			return false
		}
	case "inet", "netdev":
	default:
		return false
	}
	switch c.hook {
	case "prerouting", "input":
		return c.key.family != "netdev"
	case "ingress":
		return len(c.devs) == 0 || slices.Contains(c.devs, p.Interface)
	}
	return false
}

// acceptFix is the rule that lets VRRP in, first in the chain.
func (c *nftChain) acceptFix(p Packet) string {
	match := "meta l4proto vrrp"
	switch c.key.family {
	case "ip":
		match = "ip protocol vrrp"
	case "ip6":
		match = "ip6 nexthdr vrrp"
	}
	if c.key.family != "netdev" {
		match = "iifname " + p.Interface + " " + match
	}
	return fmt.Sprintf("nft insert rule %s %s %s %s accept", c.key.family, c.key.table, c.key.name, match)
}

// eval runs chain c for the packet, into the chains it jumps to.
func (rs *Ruleset) eval(c *nftChain, p Packet, depth int) outcome {
	if depth > 16 { // a loop of jumps: nft refuses one, so a broken listing
		return outcome{}
	}
	for _, r := range c.rules {
		cond, named := yes, false
		var verdict string
		var target string
		for _, e := range r.exprs {
			for k, raw := range e {
				switch k {
				case "match":
					t, proto := nftMatch(raw, p)
					cond = cond.and(t)
					named = named || (proto && t == yes)
				case "accept", "drop", "return", "continue":
					verdict = k
				case "reject":
					verdict = "drop"
				case "jump", "goto":
					var j struct{ Target string }
					json.Unmarshal(raw, &j)
					verdict, target = k, j.Target
				case "vmap":
					v, t, ok := nftVmap(raw, p)
					if !ok {
						cond = no // a map the evaluator cannot read: assume it does not apply
					} else if v == "" {
						cond = no // no entry for the packet
					} else {
						verdict, target = v, t
						named = true
					}
				case "limit", "queue", "xt":
					cond = cond.and(maybe)
				}
			}
		}
		if cond == no || (cond == maybe && !named) || verdict == "" || verdict == "continue" {
			continue
		}
		by := fmt.Sprintf("rule handle %d of chain %s", r.handle, c.key)
		conditional := cond == maybe
		switch verdict {
		case "accept":
			return outcome{action: accept, by: by, conditional: conditional}
		case "drop":
			return outcome{action: drop, by: by, conditional: conditional}
		case "return":
			return outcome{}
		case "jump", "goto":
			sub := rs.chains[nftChainKey{c.key.family, c.key.table, target}]
			if sub == nil {
				continue
			}
			o := rs.eval(sub, p, depth+1)
			o.conditional = o.conditional || conditional
			if o.action != none || verdict == "goto" {
				return o
			}
		}
	}
	return outcome{}
}

// nftMatch decides a match for the packet; proto says whether it
// tested the IP protocol (so that a yes names VRRP).
func nftMatch(raw json.RawMessage, p Packet) (t tri, proto bool) {
	var m struct {
		Op          string
		Left, Right json.RawMessage
	}
	if json.Unmarshal(raw, &m) != nil {
		return maybe, false
	}
	neg := false
	switch m.Op {
	case "==", "in", "":
	case "!=":
		neg = true
	default:
		return maybe, false
	}
	t, proto, absent := nftField(m.Left, p, func(test func(json.RawMessage) tri) tri { return test(m.Right) })
	if absent {
		// "ip protocol != tcp" is still no for an IPv6 packet: nft
		// tests the family before the field.
		return no, false
	}
	if neg {
		return t.not(), false
	}
	return t, proto
}

// nftField resolves the left side of a match or the key of a map for
// the packet and applies test to the right side. A field the packet
// lacks (ip protocol of an IPv6 packet, tcp dport of VRRP) is no.
func nftField(left json.RawMessage, p Packet, apply func(func(json.RawMessage) tri) tri) (t tri, proto, absent bool) {
	var l struct {
		Meta    *struct{ Key string }
		Payload *struct{ Protocol, Field string }
	}
	if json.Unmarshal(left, &l) != nil {
		return maybe, false, false
	}
	switch {
	case l.Meta != nil:
		switch l.Meta.Key {
		case "l4proto":
			return apply(nftIsVRRP), true, false
		case "nfproto":
			return apply(nftNameTest(map[bool]string{false: "ipv4", true: "ipv6"}[p.IPv6])), false, false
		case "protocol":
			return apply(nftNameTest(map[bool]string{false: "ip", true: "ip6"}[p.IPv6])), false, false
		case "iifname", "iif":
			return apply(nftNameTest(p.Interface)), false, false
		}
	case l.Payload != nil:
		switch pr := l.Payload.Protocol; {
		case pr == "ip" && p.IPv6, pr == "ip6" && !p.IPv6:
			return no, false, true
		case pr == "ip" && l.Payload.Field == "protocol", pr == "ip6" && l.Payload.Field == "nexthdr":
			return apply(nftIsVRRP), true, false
		case slices.Contains([]string{"tcp", "udp", "udplite", "sctp", "dccp", "icmp", "icmpv6", "igmp", "esp", "ah", "comp"}, pr):
			return no, false, true
		}
	}
	return maybe, false, false
}

// nftValues calls f on each value of a right side (a value, a set, a
// list); a named set (@name) is unknown.
func nftValues(right json.RawMessage, f func(json.RawMessage) tri) tri {
	var set struct{ Set []json.RawMessage }
	if json.Unmarshal(right, &set) == nil && set.Set != nil {
		return nftAny(set.Set, f)
	}
	var list []json.RawMessage
	if json.Unmarshal(right, &list) == nil {
		return nftAny(list, f)
	}
	var s string
	if json.Unmarshal(right, &s) == nil && strings.HasPrefix(s, "@") {
		return maybe
	}
	return f(right)
}

func nftAny(vs []json.RawMessage, f func(json.RawMessage) tri) tri {
	out := no
	for _, v := range vs {
		out = max(out, nftValues(v, f))
	}
	return out
}

// nftProtoNumbers are the protocol names nft prints (from /etc/protocols).
var nftProtoNumbers = map[string]int{
	"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
	"icmpv6": 58, "ipv6-icmp": 58, "vrrp": 112, "carp": 112, "sctp": 132, "udplite": 136,
}

func nftProto(v json.RawMessage) (int, bool) {
	var n int
	if json.Unmarshal(v, &n) == nil {
		return n, true
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if n, err := strconv.Atoi(s); err == nil {
			return n, true
		}
		n, ok := nftProtoNumbers[s]
		return n, ok
	}
	return 0, false
}

func nftIsVRRP(right json.RawMessage) tri {
	return nftValues(right, func(v json.RawMessage) tri {
		var r struct{ Range []json.RawMessage }
		if json.Unmarshal(v, &r) == nil && len(r.Range) == 2 {
			lo, ok1 := nftProto(r.Range[0])
			hi, ok2 := nftProto(r.Range[1])
			if !ok1 || !ok2 {
				return maybe
			}
			if lo <= vrrp.IPProto && vrrp.IPProto <= hi {
				return yes
			}
			return no
		}
		var s string
		if json.Unmarshal(v, &s) == nil && strings.HasPrefix(s, "@") {
			return maybe
		}
		n, ok := nftProto(v)
		switch {
		case !ok:
			return no // a name that is not vrrp's
		case n == vrrp.IPProto:
			return yes
		}
		return no
	})
}

// nftNameTest matches a name, with nft's trailing * wildcard.
func nftNameTest(name string) func(json.RawMessage) tri {
	return func(right json.RawMessage) tri {
		return nftValues(right, func(v json.RawMessage) tri {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return maybe // an interface index
			}
			if s == name || (strings.HasSuffix(s, "*") && strings.HasPrefix(name, strings.TrimSuffix(s, "*"))) {
				return yes
			}
			return no
		})
	}
}

// nftVmap resolves a verdict map for the packet: the verdict of the
// entry it hits ("" for none), or ok false when it cannot tell.
func nftVmap(raw json.RawMessage, p Packet) (verdict, target string, ok bool) {
	var m struct {
		Key  json.RawMessage
		Data struct{ Set [][2]json.RawMessage }
	}
	if json.Unmarshal(raw, &m) != nil || m.Data.Set == nil {
		return "", "", false
	}
	for _, entry := range m.Data.Set {
		hit, _, absent := nftField(m.Key, p, func(test func(json.RawMessage) tri) tri { return test(entry[0]) })
		if absent {
			return "", "", true
		}
		switch hit {
		case maybe:
			return "", "", false
		case yes:
			var v map[string]json.RawMessage
			if json.Unmarshal(entry[1], &v) != nil {
				return "", "", false
			}
			for k, arg := range v {
				switch k {
				case "accept", "drop", "return", "continue":
					return k, "", true
				case "reject":
					return "drop", "", true
				case "jump", "goto":
					var j struct{ Target string }
					json.Unmarshal(arg, &j)
					return k, j.Target, true
				}
			}
			return "", "", false
		}
	}
	return "", "", true
}
