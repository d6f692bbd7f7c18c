package keepalived

// vrrp_sync_group → sync_group

// kaGroup is a vrrp_sync_group as its members see it.
type kaGroup struct {
	name     string
	tracking bool // global_tracking or sync_group_tracking_weight: weights kept
	tracks   []*kaNode
}

func (c *kaConv) preGroup(n *kaNode) {
	if !c.nargs(n, 1, 1) {
		return
	}
	g := &kaGroup{name: n.Args[0]}
	for _, x := range n.Children {
		switch x.Key {
		case "group":
			for _, m := range x.Children {
				for _, name := range append([]string{m.Key}, m.Args...) {
					c.groups[name] = g
				}
			}
		case "global_tracking", "sync_group_tracking_weight":
			g.tracking = true
		case "track_interface", "track_script":
			g.tracks = append(g.tracks, x)
		}
	}
}

func (c *kaConv) syncGroup(n *kaNode) *hBlock {
	if len(n.Args) != 1 {
		return nil
	}
	b := newBlock("sync_group", n.Pos, n.Args[0])
	b.comments, b.tail = n.Comments, n.Tail
	var members []string
	for _, x := range n.Children {
		switch x.Key {
		case "group":
			for _, m := range x.Children {
				for _, name := range append([]string{m.Key}, m.Args...) {
					if c.instances[name] == nil {
						c.errf(m.Pos, "vrrp_sync_group %s: no vrrp_instance %q", n.Args[0], name)
						continue
					}
					members = append(members, name)
				}
			}
			b.attr("instances", hList(hStrs(members)), x.Pos, x.Comments...)
		case "track_interface", "track_script":
			b.comment("keepalived: "+stmt(x)+" — carried over into each member vrrp instance", x.Pos, x.Comments...)
		case "global_tracking", "sync_group_tracking_weight":
			b.comment("keepalived: "+stmt(x)+" — carried over: the members keep their track_script weights", x.Pos, x.Comments...)
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify", "notify_deleted":
			c.drop(b, x, true, "lvsd runs notify scripts per instance, not per group; put the script in the notify block of one member")
		case "smtp_alert", "notify_priority_changes":
			c.drop(b, x, false, "lvsd sends no mail and has no notify FIFO")
		case "track_file", "track_process", "track_bfd":
			c.drop(b, x, true, "lvsd tracks only interfaces and scripts")
		default:
			c.drop(b, x, true, "not a vrrp_sync_group keyword the importer knows")
		}
	}
	if len(members) == 0 {
		c.errf(n.Pos, "vrrp_sync_group %s has no group { … } of instances", n.Args[0])
		return nil
	}
	return b
}
