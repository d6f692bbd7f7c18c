package keepalived

import (
	"fmt"
	"strconv"
	"time"
)

// global_defs

var globalHarmless = map[string]string{
	"notification_email":               "lvsd sends no mail; alert from its metrics or logs",
	"notification_email_from":          "lvsd sends no mail",
	"smtp_server":                      "lvsd sends no mail",
	"smtp_connect_timeout":             "lvsd sends no mail",
	"smtp_helo_name":                   "lvsd sends no mail",
	"smtp_alert":                       "lvsd sends no mail",
	"smtp_alert_vrrp":                  "lvsd sends no mail",
	"smtp_alert_checker":               "lvsd sends no mail",
	"no_email_faults":                  "lvsd sends no mail",
	"enable_script_security":           "lvsd runs every script as global.script_user, never as root unless told so",
	"lvs_flush":                        "lvsd adopts the IPVS table it finds and converges it by difference",
	"vrrp_skip_check_adv_addr":         "lvsd always checks the addresses of adverts",
	"vrrp_check_unicast_src":           "lvsd accepts unicast adverts only from its unicast_peers",
	"vrrp_garp_interval":               "lvsd sends each burst at once",
	"vrrp_gna_interval":                "lvsd sends each burst at once",
	"vrrp_garp_master_refresh_repeat":  "lvsd sends one GARP per VIP on each refresh",
	"vrrp_garp_lower_prio_delay":       "lvsd re-announces at once when it hears a lower priority",
	"vrrp_garp_lower_prio_repeat":      "lvsd re-announces at once when it hears a lower priority",
	"vrrp_garp_extra_if":               "lvsd announces on the instance's interface",
	"vrrp_lower_prio_no_advert":        "lvsd answers a lower priority advert at once",
	"vrrp_higher_prio_send_advert":     "lvsd has no such setting",
	"vrrp_iptables":                    "lvsd installs no firewall rules",
	"vrrp_ipsets":                      "lvsd installs no firewall rules",
	"nftables":                         "lvsd installs no firewall rules",
	"nftables_priority":                "lvsd installs no firewall rules",
	"nftables_counters":                "lvsd installs no firewall rules",
	"nftables_ifindex":                 "lvsd installs no firewall rules",
	"vrrp_notify_priority_changes":     "lvsd has no notify FIFO",
	"dynamic_interfaces":               "lvsd's run refuses to start on a missing interface",
	"default_interface":                "lvsd configures no static addresses",
	"checker_log_all_failures":         "lvsd logs every health transition",
	"log_unknown_vrids":                "lvsd counts adverts for unknown VRIDs in its metrics",
	"vrrp_log_unknown_vrids":           "lvsd counts adverts for unknown VRIDs in its metrics",
	"fifo_write_vrrp_states_on_reload": "lvsd has no notify FIFO",
	"disable_local_igmp":               "lvsd leaves IGMP alone",
	"tmp_config_directory":             "process tuning of keepalived",
	"config_save_dir":                  "process tuning of keepalived",
	"process_names":                    "process tuning of keepalived",
	"process_name":                     "process tuning of keepalived",
	"vrrp_process_name":                "process tuning of keepalived",
	"checker_process_name":             "process tuning of keepalived",
	"bfd_process_name":                 "process tuning of keepalived",
	"max_auto_priority":                "process tuning of keepalived",
	"min_auto_priority_delay":          "process tuning of keepalived",
	"vrrp_priority":                    "process tuning of keepalived",
	"checker_priority":                 "process tuning of keepalived",
	"bfd_priority":                     "process tuning of keepalived",
	"vrrp_no_swap":                     "process tuning of keepalived",
	"checker_no_swap":                  "process tuning of keepalived",
	"bfd_no_swap":                      "process tuning of keepalived",
	"vrrp_cpu_affinity":                "process tuning of keepalived",
	"checker_cpu_affinity":             "process tuning of keepalived",
	"bfd_cpu_affinity":                 "process tuning of keepalived",
	"vrrp_rt_priority":                 "process tuning of keepalived",
	"checker_rt_priority":              "process tuning of keepalived",
	"bfd_rt_priority":                  "process tuning of keepalived",
	"vrrp_rlimit_rttime":               "process tuning of keepalived",
	"checker_rlimit_rttime":            "process tuning of keepalived",
	"bfd_rlimit_rttime":                "process tuning of keepalived",
	"child_wait_time":                  "process tuning of keepalived",
	"instance":                         "lvsd names its files through control_socket",
	"use_pid_dir":                      "lvsd writes no pid file",
	"linkbeat_use_polling":             "lvsd watches links through netlink",
	"snmp_socket":                      "lvsd exports Prometheus metrics (global.metrics_listen), not SNMP",
	"enable_snmp_vrrp":                 "lvsd exports Prometheus metrics (global.metrics_listen), not SNMP",
	"enable_snmp_checker":              "lvsd exports Prometheus metrics (global.metrics_listen), not SNMP",
	"enable_snmp_rfc":                  "lvsd exports Prometheus metrics (global.metrics_listen), not SNMP",
	"enable_snmp_rfcv2":                "lvsd exports Prometheus metrics (global.metrics_listen), not SNMP",
	"enable_snmp_rfcv3":                "lvsd exports Prometheus metrics (global.metrics_listen), not SNMP",
	"enable_snmp_keepalived":           "lvsd exports Prometheus metrics (global.metrics_listen), not SNMP",
	"enable_traps":                     "lvsd exports Prometheus metrics (global.metrics_listen), not SNMP",
	"enable_dbus":                      "lvsd has a status socket (lvsd status), not DBus",
	"dbus_service_name":                "lvsd has a status socket (lvsd status), not DBus",
	"vrrp_startup_delay":               "lvsd starts every instance as backup and waits master_down",
	"random_seed":                      "lvsd has no such setting",
	"reload_check_config":              "lvsd reload validates the file first and keeps the old one on error",
	"umask":                            "lvsd creates its socket with mode 0600",
	"vrrp_rx_bufs_policy":              "socket tuning of keepalived",
	"vrrp_rx_bufs_multiplier":          "socket tuning of keepalived",
}

var globalChanges = map[string]string{
	"startup_script":          "lvsd runs no startup script; run it from the service manager (ExecStartPre=)",
	"startup_script_timeout":  "lvsd runs no startup script",
	"shutdown_script":         "lvsd runs no shutdown script; run it from the service manager (ExecStopPost=)",
	"shutdown_script_timeout": "lvsd runs no shutdown script",
	"notify_fifo":             "lvsd has no notify FIFO; use notify scripts or the status socket",
	"notify_fifo_script":      "lvsd has no notify FIFO; use notify scripts or the status socket",
	"vrrp_notify_fifo":        "lvsd has no notify FIFO; use notify scripts or the status socket",
	"vrrp_notify_fifo_script": "lvsd has no notify FIFO; use notify scripts or the status socket",
	"lvs_notify_fifo":         "lvsd has no notify FIFO; use notify_up/notify_down",
	"lvs_notify_fifo_script":  "lvsd has no notify FIFO; use notify_up/notify_down",
	"net_namespace":           "lvsd runs in the namespace it is started in",
	"net_namespace_ipvs":      "lvsd programs IPVS in the namespace it is started in",
	"nftables_ipvs":           "lvsd installs no firewall rules for virtual server groups; each group entry is its own service",
	"script_group":            "lvsd runs scripts with the groups of global.script_user",
}

// globalKeywords converts the statements of global_defs.
var globalKeywords = keywords[*hBlock]{
	handle: map[string]func(*kaConv, *hBlock, *kaNode){
		"router_id": func(c *kaConv, g *hBlock, s *kaNode) {
			if c.nargs(s, 1, 1) {
				g.attr("router_id", hStr(s.Args[0]), s.Pos, s.Comments...)
			}
		},
		"script_user": func(c *kaConv, g *hBlock, s *kaNode) {
			if !c.nargs(s, 1, 2) {
				return
			}
			c.scriptUser = s.Args[0]
			g.attr("script_user", hStr(s.Args[0]), s.Pos, s.Comments...)
			if len(s.Args) == 2 {
				c.adjust(g, s, false, "group "+s.Args[1]+" not carried over: lvsd runs scripts with the user's own groups")
			}
		},
		"vrrp_version": func(c *kaConv, g *hBlock, s *kaNode) {
			if v, ok := c.intArg(s, 0, 2, 3); ok {
				c.defVersion = v
				g.comment(fmt.Sprintf("keepalived: %s — carried over as version = %d in each vrrp block", stmt(s), v), s.Pos, s.Comments...)
			}
		},
		"lvs_sync_daemon": (*kaConv).lvsSyncDaemon,
		"lvs_timeouts":    (*kaConv).lvsTimeouts,
		"lvs_flush_on_stop": func(c *kaConv, g *hBlock, s *kaNode) {
			g.attr("flush_on_stop", hBool(true), s.Pos, s.Comments...)
			if len(s.Args) > 0 {
				c.adjust(g, s, false, "carried over as flush_on_stop = true: lvsd flushes the whole table")
			}
		},
		"vrrp_garp_master_delay": func(c *kaConv, g *hBlock, s *kaNode) {
			if d, ok := c.secondsArg(s, 0); ok {
				d = d.Round(time.Second)
				c.garp.delay, c.garp.delayPos = &d, s.Pos
				garpCarried(g, s)
			}
		},
		"vrrp_garp_master_repeat": func(c *kaConv, g *hBlock, s *kaNode) {
			if v, ok := c.intArg(s, 0, 1, 100); ok {
				c.garp.repeat, c.garp.repeatPos = &v, s.Pos
				garpCarried(g, s)
			}
		},
		"vrrp_garp_master_refresh": func(c *kaConv, g *hBlock, s *kaNode) {
			if d, ok := c.secondsArg(s, 0); ok {
				c.garp.refresh, c.garp.refreshPos = &d, s.Pos
				garpCarried(g, s)
			}
		},
		"vrrp_min_garp": func(c *kaConv, g *hBlock, s *kaNode) {
			if on, ok := kaBool(s.Args); ok && on {
				one, zero := 1, time.Duration(0)
				c.garp.repeat, c.garp.delay = &one, &zero
				c.garp.repeatPos, c.garp.delayPos = s.Pos, s.Pos
				g.comment("keepalived: "+stmt(s)+" — carried over as garp { repeat = 1, delay = \"0s\" } in each vrrp instance", s.Pos, s.Comments...)
			}
		},
		"vrrp_mcast_group4": func(c *kaConv, g *hBlock, s *kaNode) { c.mcastGroup(g, s, "224.0.0.18") },
		"vrrp_mcast_group6": func(c *kaConv, g *hBlock, s *kaNode) { c.mcastGroup(g, s, "ff02::12") },
		"vrrp_strict": func(c *kaConv, g *hBlock, s *kaNode) {
			c.drop(g, s, false, "lvsd installs no firewall rules, so the VIPs accept traffic (keepalived's strict mode dropped it: no_accept), and it allows unicast and preempt_delay")
		},
		"vrrp_down_timer_adverts": func(c *kaConv, g *hBlock, s *kaNode) {
			c.downTimerAdverts(g, s, len(s.Args) == 1 && s.Args[0] == "3")
		},
	},
	harmless: globalHarmless,
	changes:  globalChanges,
}

func (c *kaConv) globalDefs(n *kaNode) {
	globalKeywords.convert(c, c.global, c.global, n)
}

// garpCarried comments a global GARP setting where it was.
func garpCarried(g *hBlock, s *kaNode) {
	g.comment("keepalived: "+stmt(s)+" — carried over into the garp block of each vrrp instance", s.Pos, s.Comments...)
}

// mcastGroup converts vrrp_mcast_group4/6; rfc is the group of the RFCs,
// the only one lvsd sends to.
func (c *kaConv) mcastGroup(g *hBlock, s *kaNode, rfc string) {
	if len(s.Args) == 1 && s.Args[0] == rfc {
		c.drop(g, s, false, "it is the RFC group, which lvsd uses")
		return
	}
	c.drop(g, s, true, "lvsd sends adverts to the RFC group "+rfc+" (or unicast_peers); a peer listening on another group will not hear it")
}

// connectionSync starts the connection_sync block for x, or drops x when
// there is one already: lvsd drives one pair of sync daemons.
func (c *kaConv) connectionSync(b *hBlock, x *kaNode) *hBlock {
	if c.csync != nil {
		c.drop(b, x, true, "only one connection_sync is possible; the first one is kept")
		return nil
	}
	cs := newBlock("connection_sync", x.Pos)
	cs.comments = x.Comments
	cs.attr("interface", hStr(x.Args[0]), x.Pos)
	c.csync = cs
	b.comment("keepalived: "+stmt(x)+" — carried over as the connection_sync block", x.Pos)
	return cs
}

// lvsSyncNumbers are lvs_sync_daemon's numeric options: the
// connection_sync attribute each sets, and its range.
var lvsSyncNumbers = map[string]struct {
	attr   string
	lo, hi int
}{
	"id":     {"sync_id", 0, 255},
	"maxlen": {"max_len", 128, 65507},
	"port":   {"port", 1, 65535},
	"ttl":    {"ttl", 1, 255},
}

// lvsSyncWords are its options that take a word.
var lvsSyncWords = map[string]string{"inst": "instance", "group": "group"}

// lvs_sync_daemon <INTERFACE> [[inst] <VRRP_INSTANCE>] [id <SYNC_ID>]
// [maxlen <LEN>] [port <PORT>] [ttl <TTL>] [group <IP ADDR>]
func (c *kaConv) lvsSyncDaemon(g *hBlock, s *kaNode) {
	if !c.nargs(s, 1, -1) {
		return
	}
	cs := c.connectionSync(g, s)
	if cs == nil {
		return
	}
	for i := 1; i < len(s.Args); i++ {
		opt := s.Args[i]
		if attr, ok := lvsSyncWords[opt]; ok {
			if i++; i < len(s.Args) {
				cs.attr(attr, hStr(s.Args[i]), s.Pos)
			}
			continue
		}
		if n, ok := lvsSyncNumbers[opt]; ok {
			if i++; i >= len(s.Args) {
				c.errf(s.Pos, "lvs_sync_daemon: %s needs a value", opt)
				continue
			}
			v, err := strconv.Atoi(s.Args[i])
			if err != nil || v < n.lo || v > n.hi {
				c.errf(s.Pos, "lvs_sync_daemon: %s %q is not within %d..%d", opt, s.Args[i], n.lo, n.hi)
				continue
			}
			cs.attr(n.attr, hInt(v), s.Pos)
			continue
		}
		if cs.get("instance") == nil {
			cs.attr("instance", hStr(opt), s.Pos)
			continue
		}
		c.errf(s.Pos, "lvs_sync_daemon: unknown option %q", opt)
	}
	if cs.get("instance") == nil {
		cs.comment("no instance: the master and backup sync daemons both run, as with keepalived", s.Pos)
	}
}

// lvs_timeouts [tcp SECS] [tcpfin SECS] [udp SECS]
func (c *kaConv) lvsTimeouts(g *hBlock, s *kaNode) {
	t := newBlock("ipvs_timeouts", s.Pos)
	t.comments = s.Comments
	names := map[string]string{"tcp": "tcp", "tcpfin": "tcp_fin", "tcp_fin": "tcp_fin", "udp": "udp"}
	for i := 0; i+1 < len(s.Args); i += 2 {
		name, ok := names[s.Args[i]]
		v, err := strconv.Atoi(s.Args[i+1])
		if !ok || err != nil || v < 1 {
			c.errf(s.Pos, "lvs_timeouts: %q %q is not one of tcp, tcpfin, udp with a number of seconds", s.Args[i], s.Args[i+1])
			return
		}
		t.attr(name, hDur(time.Duration(v)*time.Second), s.Pos)
	}
	if len(s.Args)%2 != 0 || len(s.Args) == 0 {
		c.errf(s.Pos, "lvs_timeouts takes pairs: tcp SECS tcpfin SECS udp SECS")
		return
	}
	g.nest(t)
}
