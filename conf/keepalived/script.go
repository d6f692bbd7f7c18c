package keepalived

import (
	"fmt"
	"sort"
	"time"
)

// vrrp_script → track_script

// kaScript is a vrrp_script, with the instances that track it.
type kaScript struct {
	node     *kaNode
	block    *hBlock
	weight   int
	reverse  bool
	weightAt kaPos
	refs     []kaScriptRef
}

type kaScriptRef struct {
	instance string
	override *int   // the instance's own weight for it
	group    string // a sync group that zeroes the weight
	pos      kaPos
}

// weight is the weight the instance sees, and why when it is not the
// script's own.
func (r kaScriptRef) weight(s *kaScript) (int, string) {
	switch {
	case r.group != "":
		return 0, " (keepalived ignores track weights inside vrrp_sync_group " + r.group + ": a failure puts the group in FAULT)"
	case r.override != nil:
		return *r.override, " (set by vrrp_instance " + r.instance + ")"
	}
	return s.weight, ""
}

func (c *kaConv) vrrpScript(s *kaScript) *hBlock {
	n := s.node
	b := newBlock("track_script", n.Pos, n.Args[0])
	b.comments, b.tail = n.Comments, n.Tail
	s.block = b
	interval := time.Second
	var timeout *kaNode
	hasCommand := false
	for _, x := range n.Children {
		switch x.Key {
		case "script":
			argv, ok := c.command(b, &kaNode{Key: x.Key, Args: x.Args[:min(1, len(x.Args))], Pos: x.Pos})
			if !ok {
				continue
			}
			hasCommand = true
			b.attr("command", hList(hStrs(argv)), x.Pos, x.Comments...)
			if len(x.Args) > 1 {
				c.adjust(b, x, false, fmt.Sprintf("the unquoted words after %q are left out, as keepalived leaves them out: quote the whole command line", x.Args[0]))
			}
		case "interval":
			if d, ok := c.secondsArg(x, 0); ok {
				interval = max(d, 10*time.Millisecond)
				b.attr("interval", hDur(interval), x.Pos, x.Comments...)
			}
		case "timeout":
			timeout = x
		case "weight":
			if v, ok := c.intArg(x, 0, -254, 254); ok {
				s.weight, s.weightAt = v, x.Pos
				if len(x.Args) > 1 && x.Args[1] == "reverse" {
					s.reverse = true
					c.drop(b, x, true, "lvsd has no reversed weights: the weight applies while the script fails (negative) or succeeds (positive)")
					continue
				}
				b.attr("weight", hInt(v), x.Pos, x.Comments...)
			}
		case "rise", "fall":
			if v, ok := c.intArg(x, 0, 1, 100); ok {
				b.attr(x.Key, hInt(v), x.Pos, x.Comments...)
			}
		case "user":
			if c.nargs(x, 1, 2) {
				c.usesScripts = true
				c.scriptAs(b, x, x.Args[0])
			}
		case "init_fail":
			c.drop(b, x, false, "lvsd counts a track script as failed until its first success only when rise says so")
		default:
			c.drop(b, x, true, "not a vrrp_script keyword the importer knows")
		}
	}
	if !hasCommand {
		c.errf(n.Pos, "vrrp_script %s has no script", n.Args[0])
	}
	if timeout != nil {
		if d, ok := c.secondsArg(timeout, 0); ok {
			if d > interval {
				c.adjust(b, timeout, false, fmt.Sprintf("shortened to the interval (%s): lvsd ends a run before the next one starts", hDur(interval)))
				d = interval
			}
			b.attr("timeout", hDur(max(d, time.Millisecond)), timeout.Pos, timeout.Comments...)
		}
	}
	return b
}

// resolveScriptWeights gives each track_script the weight its instances
// see: the instance's override, or zero inside a sync group (keepalived
// ignores track weights of grouped instances). lvsd has one weight per
// script, so differing weights are a change of behaviour.
func (c *kaConv) resolveScriptWeights() {
	names := make([]string, 0, len(c.scripts))
	for name := range c.scripts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := c.scripts[name]
		if s.block == nil || len(s.refs) == 0 || s.reverse {
			continue
		}
		w, why := s.refs[0].weight(s)
		same := true
		for _, r := range s.refs[1:] {
			if rw, _ := r.weight(s); rw != w {
				same = false
			}
		}
		if !same {
			for _, r := range s.refs {
				rw, rwhy := r.weight(s)
				c.notes = append(c.notes, Note{File: r.pos.File, Line: r.pos.Line, Statement: "track_script " + name,
					Text:             fmt.Sprintf("vrrp_instance %s sees weight %d%s, but lvsd has one weight per track_script (%d is kept)", r.instance, rw, rwhy, s.weight),
					ChangesBehaviour: true})
			}
			s.block.comment(fmt.Sprintf("keepalived: the instances tracking %s see different weights; lvsd has one weight per script", name), s.node.Pos)
			continue
		}
		if w == s.weight {
			continue
		}
		text := fmt.Sprintf("keepalived: weight %d — carried over as %d, the weight its instances see%s", s.weight, w, why)
		switch it := s.block.get("weight"); {
		case it != nil && w == 0:
			it.kind, it.text = hComment, text
		case it != nil:
			it.expr = hInt(w)
			it.comments = append(it.comments, text)
		default:
			s.block.attr("weight", hInt(w), s.node.Pos, text)
		}
		c.notes = append(c.notes, Note{File: s.node.Pos.File, Line: s.node.Pos.Line, Statement: "vrrp_script " + name,
			Text: fmt.Sprintf("carried over with weight %d, the weight its instances see%s", w, why)})
	}
}
