package keepalived

import (
	"fmt"
)

// kaRS is a real server being converted.
type kaRS struct {
	b       *hBlock
	vs      *kaVS
	weight  int
	check   *hBlock
	inhibit *bool
	node    *kaNode
	inhNode *kaNode
	// while its statements are read
	own      kaCheckDefs // checker settings of its own
	checkers []*kaNode
	notified bool // the note on notify_up/down's arguments is made
}

var rsHarmless = map[string]string{
	"smtp_alert": "lvsd sends no mail",
	"snmp_name":  "lvsd exports Prometheus metrics, not SNMP",
}

var checkKinds = map[string]string{
	"TCP_CHECK": "tcp", "HTTP_GET": "http", "SSL_GET": "http", "MISC_CHECK": "script", "DNS_CHECK": "dns",
}

// rsChanges are the checkers lvsd lacks.
var rsChanges = map[string]string{
	"SMTP_CHECK": "lvsd has no SMTP check; a tcp check on port 25 comes closest; the server is not checked by it",
	"UDP_CHECK":  "lvsd has no UDP check; the server is not checked by it",
	"PING_CHECK": "lvsd has no ICMP check; the server is not checked by it",
	"BFD_CHECK":  "lvsd has no BFD; the server is not checked by it",
	"FILE_CHECK": "lvsd has no file check; the server is not checked by it",
}

func (c *kaConv) realServer(vs *kaVS, x *kaNode) *kaRS {
	rs, checkPort := c.newRS(vs, x)
	if rs == nil {
		return nil
	}
	rsKeywords.convert(c, rs.b, rs, x)
	defs := vs.defs.with(rs.own)
	for i, s := range rs.checkers {
		if i > 0 {
			c.drop(rs.b, s, true, "lvsd runs one check per real server; keepalived needed all of them to pass, lvsd only the first")
			continue
		}
		rs.check = c.checker(s, defs, checkPort)
	}
	if rs.check != nil {
		rs.b.nest(rs.check)
	}
	return rs
}

// newRS starts a real server's block. Under DR and TUN its port is the
// service's; the port written is returned for its check.
func (c *kaConv) newRS(vs *kaVS, x *kaNode) (*kaRS, int) {
	if !c.nargs(x, 1, 2) {
		return nil, 0
	}
	addr, port, ok := c.destination(x)
	if !ok {
		return nil, 0
	}
	rs := &kaRS{node: x, vs: vs, weight: 1}
	fwd := vs.fwd
	for _, s := range x.Children {
		if s.Key == "lb_kind" || s.Key == "lvs_method" {
			if f, ok := kaForwarding(s); ok {
				fwd = f
			}
		}
	}
	checkPort := 0
	label := port
	switch {
	case fwd == "nat" || port == 0:
	case vs.t.fwmark != 0:
		label, checkPort = 0, port
	case port != vs.t.port:
		label, checkPort = vs.t.port, port
	}
	b := newBlock("real_server", x.Pos, hostPort(addr, label))
	b.comments, b.tail = x.Comments, x.Tail
	rs.b = b
	probe := ""
	if checkPort != 0 && !hasConnectPort(x) {
		probe = fmt.Sprintf("; its check probes port %d", port)
	}
	switch {
	case checkPort != 0 && label == 0:
		c.adjust(b, x, false, fmt.Sprintf("carried over without its port: %s forwarding of an fwmark service sends packets unchanged (keepalived clears the port too)%s", fwd, probe))
	case checkPort != 0:
		c.adjust(b, x, false, fmt.Sprintf("carried over as port %d: %s forwarding sends packets unchanged, so the server listens on the service's port (keepalived resets it too)%s", label, fwd, probe))
	}
	return rs, checkPort
}

// rsKeywords converts the statements of a real_server; its first checker
// is converted after, with the settings it inherits.
var rsKeywords = keywords[*kaRS]{
	handle: map[string]func(*kaConv, *kaRS, *kaNode){
		"weight": func(c *kaConv, rs *kaRS, s *kaNode) {
			if v, ok := c.intArg(s, 0, 0, 65535); ok {
				rs.b.attr("weight", hInt(v), s.Pos, s.Comments...)
				rs.weight = v
			}
		},
		"lb_kind":     rsForwarding,
		"lvs_method":  rsForwarding,
		"notify_up":   rsNotify,
		"notify_down": rsNotify,
		"uthreshold":  rsThreshold,
		"lthreshold":  rsThreshold,
		"inhibit_on_failure": func(c *kaConv, rs *kaRS, s *kaNode) {
			if on, ok := c.inhibitArg(s); ok {
				rs.inhibit, rs.inhNode = on, s
			}
		},
		"TCP_CHECK":  rsChecker,
		"HTTP_GET":   rsChecker,
		"SSL_GET":    rsChecker,
		"MISC_CHECK": rsChecker,
		"DNS_CHECK":  rsChecker,
	},
	shared:   func(c *kaConv, rs *kaRS, s *kaNode) bool { return c.defKeyword(rs.b, s, &rs.own) },
	harmless: rsHarmless,
	changes:  rsChanges,
}

func rsForwarding(c *kaConv, rs *kaRS, s *kaNode) {
	if f, _ := kaForwarding(s); f == rs.vs.fwd {
		return // the service's own
	}
	c.forwarding(rs.b, s, rs.vs.fwd)
}

func rsNotify(c *kaConv, rs *kaRS, s *kaNode) {
	argv, ok := c.command(rs.b, s)
	if !ok {
		return
	}
	comments := append([]string{}, s.Comments...)
	if !rs.notified {
		rs.notified = true
		comments = append(comments, "lvsd appends UP or DOWN and the server's address; keepalived appended nothing")
		c.addNote(s, false, "carried over; lvsd appends UP or DOWN and the server's address to the command, keepalived appended nothing")
	}
	rs.b.attr(s.Key, hList(hStrs(argv)), s.Pos, comments...)
}

func rsThreshold(c *kaConv, rs *kaRS, s *kaNode) {
	if v, ok := c.intArg(s, 0, 0, 65535); ok {
		rs.b.attr(map[string]string{"uthreshold": "upper_threshold", "lthreshold": "lower_threshold"}[s.Key], hInt(v), s.Pos, s.Comments...)
	}
}

func rsChecker(c *kaConv, rs *kaRS, s *kaNode) { rs.checkers = append(rs.checkers, s) }

func hasConnectPort(rs *kaNode) bool {
	for _, s := range rs.Children {
		if checkKinds[s.Key] != "" {
			for _, o := range s.Children {
				if o.Key == "connect_port" {
					return true
				}
			}
			return false // only the first checker counts
		}
	}
	return false
}

// inhibitOnFailure sets the service's inhibit_on_failure: lvsd has it per
// service, keepalived per real server.
func (c *kaConv) inhibitOnFailure(vs *kaVS, rss []*kaRS) {
	want := false
	switch {
	case vs.inhibit != nil:
		want = *vs.inhibit
	case len(rss) > 0:
		want = true
		for _, rs := range rss {
			if rs.inhibit == nil || !*rs.inhibit {
				want = false
			}
		}
	}
	if want {
		src := kaPos{}
		var comments []string
		if vs.inhNode != nil {
			src, comments = vs.inhNode.Pos, vs.inhNode.Comments
		} else if len(rss) > 0 && rss[0].inhNode != nil {
			src = rss[0].inhNode.Pos
			comments = []string{"keepalived: inhibit_on_failure on every real_server"}
		}
		vs.b.attr("inhibit_on_failure", hBool(true), src, comments...)
	}
	for _, rs := range rss {
		eff := want
		if rs.inhibit != nil {
			eff = *rs.inhibit
		} else if vs.inhibit != nil {
			eff = *vs.inhibit
		} else {
			eff = false
		}
		if eff != want {
			at := &kaNode{Key: rs.node.Key, Args: rs.node.Args, Pos: rs.node.Pos, Block: true}
			if rs.inhNode != nil {
				at = rs.inhNode
			}
			c.drop(rs.b, at, true, fmt.Sprintf("lvsd has inhibit_on_failure per virtual_server (%t here), not per real server", want))
		}
	}
}

// hoistCheck moves a check that every real server has alike to the
// service, where lvsd gives it to each of them.
func (c *kaConv) hoistCheck(b *hBlock, rss []*kaRS) {
	if len(rss) < 2 {
		return
	}
	var first string
	for i, rs := range rss {
		if rs.check == nil {
			return
		}
		out, _ := renderHCL([]*hBlock{rs.check})
		if i == 0 {
			first = string(out)
		} else if string(out) != first {
			return
		}
	}
	b.nest(rss[0].check)
	for _, rs := range rss {
		for i, it := range rs.b.items {
			if it.kind == hNested && it.block == rs.check {
				rs.b.items = append(rs.b.items[:i], rs.b.items[i+1:]...)
				break
			}
		}
	}
}
