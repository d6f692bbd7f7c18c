package firewall

import (
	"fmt"
	"strings"
	"testing"
)

// nftDoc builds `nft -j list ruleset` output from chains and rules, as
// nft 1.0.6 prints them.
func nftDoc(objs ...string) string {
	return `{"nftables":[` + strings.Join(append([]string{`{"metainfo":{"version":"1.0.6","json_schema_version":1}}`}, objs...), ",") + `]}`
}

func nftChainJSON(family, table, name, hook, policy string) string {
	if hook == "" {
		return fmt.Sprintf(`{"chain":{"family":%q,"table":%q,"name":%q,"handle":1}}`, family, table, name)
	}
	return fmt.Sprintf(`{"chain":{"family":%q,"table":%q,"name":%q,"handle":1,"type":"filter","hook":%q,"prio":0,"policy":%q}}`, family, table, name, hook, policy)
}

func nftRuleJSON(family, table, chain string, handle int, exprs ...string) string {
	return fmt.Sprintf(`{"rule":{"family":%q,"table":%q,"chain":%q,"handle":%d,"expr":[%s]}}`, family, table, chain, handle, strings.Join(exprs, ","))
}

const (
	nftMatchIPProtoVRRP  = `{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"protocol"}},"right":"vrrp"}}`
	nftMatchIPProto112   = `{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"protocol"}},"right":112}}`
	nftMatchIPProtoNot   = `{"match":{"op":"!=","left":{"payload":{"protocol":"ip","field":"protocol"}},"right":"vrrp"}}`
	nftMatchL4Set        = `{"match":{"op":"==","left":{"meta":{"key":"l4proto"}},"right":{"set":["tcp","vrrp"]}}}`
	nftMatchL4TCP        = `{"match":{"op":"==","left":{"meta":{"key":"l4proto"}},"right":"tcp"}}`
	nftMatchTCPDport22   = `{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":22}}`
	nftMatchCtEstab      = `{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}}`
	nftMatchIifLo        = `{"match":{"op":"==","left":{"meta":{"key":"iif"}},"right":"lo"}}`
	nftMatchIifnameEth0  = `{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"eth0"}}`
	nftMatchIifnameEthX  = `{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"eth*"}}`
	nftMatchIifnameEth1  = `{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"eth1"}}`
	nftMatchSaddrPeer    = `{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"192.0.2.12"}}`
	nftMatchIP6NexthdrVR = `{"match":{"op":"==","left":{"payload":{"protocol":"ip6","field":"nexthdr"}},"right":"vrrp"}}`
	nftAcceptJSON        = `{"accept":null}`
	nftDropJSON          = `{"drop":null}`
	nftRejectJSON        = `{"reject":{"type":"icmpx","expr":"port-unreachable"}}`
	nftCounterJSON       = `{"counter":{"packets":0,"bytes":0}}`
)

// inetFix lets VRRP on eth0 into the inet filter input chain.
const inetFix = "nft insert rule inet filter input iifname eth0 meta l4proto vrrp accept"

func TestNftablesVRRP(t *testing.T) {
	in := func(handle int, exprs ...string) string {
		return nftRuleJSON("inet", "filter", "input", handle, exprs...)
	}
	base := func(policy string) string { return nftChainJSON("inet", "filter", "input", "input", policy) }
	cases := []struct {
		name    string
		ruleset string
		v6      bool
		want    Verdict
	}{
		{"empty", nftDoc(), false, clean(0)},
		{"accept policy", nftDoc(base("accept"), in(2, nftMatchCtEstab, nftAcceptJSON)), false, clean(1)},
		{"ip protocol vrrp drop", nftDoc(base("accept"), in(5, nftMatchIPProtoVRRP, nftDropJSON)), false, dropped("rule handle 5 of chain inet filter input", inetFix)},
		{"by number", nftDoc(base("accept"), in(5, nftMatchIPProto112, nftCounterJSON, nftDropJSON)), false, dropped("rule handle 5 of chain inet filter input", inetFix)},
		{"reject in a set", nftDoc(base("accept"), in(7, nftMatchL4Set, nftRejectJSON)), false, dropped("rule handle 7 of chain inet filter input", inetFix)},
		{"drop policy", nftDoc(base("drop"), in(2, nftMatchCtEstab, nftAcceptJSON), in(3, nftMatchIifLo, nftAcceptJSON), in(4, nftMatchTCPDport22, nftAcceptJSON)), false, dropped("the drop policy of chain inet filter input", inetFix)},
		{"drop policy, VRRP accepted", nftDoc(base("drop"), in(2, nftMatchCtEstab, nftAcceptJSON), in(3, nftMatchIPProtoVRRP, nftAcceptJSON)), false, accepted("rule handle 3 of chain inet filter input")},
		{"drop policy, accepted from the peer", nftDoc(base("drop"), in(3, nftMatchSaddrPeer, nftMatchIPProtoVRRP, nftAcceptJSON)), false, accepted("rule handle 3 of chain inet filter input, whose other conditions must let every peer's adverts through")},
		{"drop policy, eth0 trusted", nftDoc(base("drop"), in(3, nftMatchIifnameEth0, nftAcceptJSON)), false, accepted("rule handle 3 of chain inet filter input")},
		{"drop policy, eth* trusted", nftDoc(base("drop"), in(3, nftMatchIifnameEthX, nftAcceptJSON)), false, accepted("rule handle 3 of chain inet filter input")},
		{"drop policy, eth1 trusted", nftDoc(base("drop"), in(3, nftMatchIifnameEth1, nftAcceptJSON)), false, dropped("the drop policy of chain inet filter input", inetFix)},
		{"drop all but vrrp", nftDoc(base("accept"), in(9, nftMatchIPProtoNot, nftDropJSON)), false, clean(1)},
		{"tcp only rules", nftDoc(base("accept"), in(9, nftMatchL4TCP, nftDropJSON), in(10, nftMatchTCPDport22, nftDropJSON)), false, clean(1)},
		{"conditional drop naming VRRP", nftDoc(base("accept"), in(4, nftMatchSaddrPeer, nftMatchIPProtoVRRP, nftDropJSON)), false, mayDrop("rule handle 4 of chain inet filter input")},
		{"drop in a jumped-to chain", nftDoc(base("accept"), nftChainJSON("inet", "filter", "sub", "", ""),
			in(2, `{"jump":{"target":"sub"}}`), nftRuleJSON("inet", "filter", "sub", 8, nftDropJSON)), false, dropped("rule handle 8 of chain inet filter sub", inetFix)},
		{"vmap accept", nftDoc(base("drop"), in(2, `{"vmap":{"key":{"meta":{"key":"l4proto"}},"data":{"set":[["tcp",{"jump":{"target":"tcp"}}],["vrrp",{"accept":null}]]}}}`)), false, accepted("rule handle 2 of chain inet filter input")},
		{"ip table ignores IPv6", nftDoc(nftChainJSON("ip", "f", "in", "input", "drop")), true, clean(0)},
		{"ip table, IPv4", nftDoc(nftChainJSON("ip", "f", "in", "input", "drop")), false, dropped("the drop policy of chain ip f in", "nft insert rule ip f in iifname eth0 ip protocol vrrp accept")},
		{"ip6 nexthdr vrrp drop", nftDoc(nftChainJSON("ip6", "f", "in", "input", "accept"), nftRuleJSON("ip6", "f", "in", 3, nftMatchIP6NexthdrVR, nftDropJSON)), true, dropped("rule handle 3 of chain ip6 f in", "nft insert rule ip6 f in iifname eth0 ip6 nexthdr vrrp accept")},
		{"ip protocol rule skips IPv6", nftDoc(base("accept"), in(5, nftMatchIPProtoVRRP, nftDropJSON), in(6, nftMatchIPProtoNot, nftDropJSON)), true, clean(1)},
		{"netdev ingress of another device", nftDoc(`{"chain":{"family":"netdev","table":"n","name":"ing","type":"filter","hook":"ingress","dev":"eth1","policy":"drop"}}`), false, clean(0)},
		{"netdev ingress of eth0", nftDoc(`{"chain":{"family":"netdev","table":"n","name":"ing","type":"filter","hook":"ingress","dev":"eth0","policy":"drop"}}`), false, dropped("the drop policy of chain netdev n ing", "nft insert rule netdev n ing meta l4proto vrrp accept")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, err := ParseRuleset([]byte(c.ruleset))
			if err != nil {
				t.Fatal(err)
			}
			wantVerdict(t, rs.VRRP(Packet{Interface: "eth0", IPv6: c.v6}), c.want)
		})
	}
}

func TestNftablesNotJSON(t *testing.T) {
	if _, err := ParseRuleset([]byte("not json")); err == nil {
		t.Error("not json parsed")
	}
}

// Two base chains that drop VRRP: both are named, each with its fix.
func TestNftablesTwoChains(t *testing.T) {
	rs, err := ParseRuleset([]byte(nftDoc(
		nftChainJSON("inet", "filter", "input", "input", "drop"),
		nftChainJSON("ip", "raw", "pre", "prerouting", "accept"),
		nftRuleJSON("ip", "raw", "pre", 4, nftMatchIPProtoVRRP, nftDropJSON))))
	if err != nil {
		t.Fatal(err)
	}
	wantVerdict(t, rs.VRRP(Packet{Interface: "eth0"}), Verdict{
		Drops: []Drop{
			{By: "the drop policy of chain inet filter input", Fix: inetFix},
			{By: "rule handle 4 of chain ip raw pre", Fix: "nft insert rule ip raw pre iifname eth0 ip protocol vrrp accept"},
		},
		Chains: 2,
	})
}
