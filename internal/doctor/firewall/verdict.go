// Package firewall follows a VRRP advert (IP protocol 112, RFC 5798
// §5.2.4) through a host's packet filter and says whether it reaches a
// socket: the nftables ruleset as `nft -j list ruleset` prints it, and
// the legacy iptables filter table as iptables-legacy-save prints it.
// Both evaluators answer in one Verdict, so that lvsd doctor reports
// either alike.
//
// It owns the evaluation only: it reads no host (the caller runs nft or
// iptables-legacy-save) and writes no report. It imports vrrp for the
// protocol number and must not import conf, cmd or the rest of
// internal.
package firewall

// Packet is the VRRP advert an evaluator follows: IP protocol 112 of a
// family arriving on an interface.
type Packet struct {
	Interface string
	IPv6      bool
}

// Verdict sums up what a firewall does to the packet. A caller reports
// Drops first, then Maybe, then Accepted: a sure drop anywhere loses
// the adverts whatever else accepts them.
type Verdict struct {
	// Drops are the chains that surely drop the packet: the rule or
	// policy that does, and the command that lets VRRP in before it.
	Drops []Drop
	// Maybe are the rules that name VRRP and drop it under other
	// conditions the evaluator cannot tell (a source address).
	Maybe []string
	// Accepted are the rules that accept the packet; one with other
	// conditions says that they must let every peer through.
	Accepted []string
	// Chains is how many base chains the packet passes through (the
	// legacy table has one: INPUT).
	Chains int
}

// Drop is a chain that drops the packet, and its fix.
type Drop struct {
	By  string // "rule handle 5 of chain inet filter input", "the DROP policy of the INPUT chain"
	Fix string // a command an operator pastes
}

// action is what a chain does to the packet.
type action uint8

const (
	none   action = iota // fell through or returned: the next chain or the policy decides
	accept               // ACCEPT, accept
	drop                 // DROP, REJECT, drop, reject
)

// outcome is how one chain ended for the packet.
type outcome struct {
	action      action
	by          string // which rule or policy decided
	conditional bool   // decided by a rule with conditions the evaluator cannot tell
}

// add counts what one chain did to the packet; fix is the command that
// lets VRRP in ahead of it.
func (v *Verdict) add(o outcome, fix string) {
	switch {
	case o.action == accept && o.conditional:
		v.Accepted = append(v.Accepted, o.by+", whose other conditions must let every peer's adverts through")
	case o.action == accept:
		v.Accepted = append(v.Accepted, o.by)
	case o.action == drop && o.conditional:
		v.Maybe = append(v.Maybe, o.by)
	case o.action == drop:
		v.Drops = append(v.Drops, Drop{By: o.by, Fix: fix})
	}
}
