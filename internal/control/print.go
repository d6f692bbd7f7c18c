package control

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteStatus renders s for a terminal, as `lvsd status` prints it.
func WriteStatus(w io.Writer, s *Status) {
	fmt.Fprintf(w, "lvsd %s, router %s, pid %d, up %s, config %s\n\n", s.Version, s.RouterID, s.PID,
		time.Since(s.Started).Round(time.Second), s.Config)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tVRID\tIFACE\tVER\tSTATE\tPRIO\tMASTER\tINTERVAL\tVIPS\tSENT\tRECV\tDROPS")
	for _, in := range s.Instances {
		prio := fmt.Sprint(in.Priority)
		if in.EffectivePriority != in.Priority {
			prio = fmt.Sprintf("%d→%d", in.Priority, in.EffectivePriority)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\tv%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", in.Name, in.VRID, in.Interface, in.Version,
			in.State, prio, dash(in.Master), dash(in.MasterInterval), dash(strings.Join(in.VIPs, ",")),
			in.AdvertsSent, in.AdvertsReceived, dash(drops(in.Drops)))
	}
	tw.Flush()
	for _, in := range s.Instances {
		if t := in.LastTransition; t != nil {
			fmt.Fprintf(w, "\n%s: %s → %s at %s (%s ago): %s", in.Name, t.From, t.To,
				t.At.Format(time.RFC3339), time.Since(t.At).Round(time.Second), t.Cause)
		}
		for _, f := range in.Faults {
			fmt.Fprintf(w, "\n%s: fault: %s", in.Name, f)
		}
		switch {
		case in.MasterWithoutVIPs:
			fmt.Fprintf(w, "\n%s: MASTER WITHOUT ITS VIPS: the interface holds %s", in.Name, dash(strings.Join(in.VIPsPresent, ",")))
		case in.BackupWithVIPs:
			fmt.Fprintf(w, "\n%s: not master, yet the interface holds %s (added outside lvsd?)", in.Name, strings.Join(in.VIPsPresent, ","))
		}
		if in.VIPError != "" {
			fmt.Fprintf(w, "\n%s: VIP operation failing, retried: %s", in.Name, in.VIPError)
		}
	}
	fmt.Fprintln(w)
	for _, so := range s.Sockets {
		if so.UnknownVRID > 0 || so.KernelDrops > 0 || so.KernelDropsError != "" {
			fmt.Fprintf(w, "\nsocket %s/%s: %d adverts for VRIDs not run here, %d dropped by the kernel", so.Interface, so.Family, so.UnknownVRID, so.KernelDrops)
			if so.KernelDropsError != "" {
				fmt.Fprintf(w, " (%s)", so.KernelDropsError)
			}
		}
	}
	if dr := s.IPVSDrift; dr != nil && dr.Count > 0 {
		fmt.Fprintf(w, "\nIPVS changed outside lvsd and mended %d times (%d operations), last %s ago: %s\n",
			dr.Count, dr.Ops, time.Since(dr.Last).Round(time.Second), strings.Join(dr.LastOps, "; "))
	}
	if cs := s.Sync; cs != nil {
		follows := "no instance: master and backup daemons both run"
		if cs.Instance != "" {
			follows = "follows " + cs.Instance
		}
		fmt.Fprintf(w, "\nconnection sync (%s): %s\n", follows, dash(strings.Join(cs.Daemons, "; ")))
		if cs.LastError != "" {
			fmt.Fprintf(w, "  last error: %s\n", cs.LastError)
		}
		if o := cs.Observed; o != nil {
			if len(o.Peers) == 0 {
				fmt.Fprintf(w, "  observed on %s: nothing yet (a master hears none of its own)\n", o.Group)
			}
			for _, p := range o.Peers {
				fmt.Fprintf(w, "  observed on %s: from %s sync id %d: %d messages, %d connections, %d malformed, last %s ago\n",
					o.Group, p.Address, p.SyncID, p.Messages, p.Connections, p.Errors, time.Since(p.LastSeen).Round(time.Second))
			}
		}
	}
	for _, vs := range s.Services {
		state := fmt.Sprintf("healthy weight %d, quorum %d", vs.Healthy, vs.Quorum)
		if vs.SorryActive {
			state += ", SORRY SERVER ACTIVE"
		}
		fmt.Fprintf(w, "\nvirtual_server %s: %s %s %s (%s)\n", vs.Name, vs.Service, vs.Scheduler, vs.Forwarding, state)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  REAL SERVER\tWEIGHT\tFWD\tHEALTH\tCHECK\tLAST RESULT\tLATENCY")
		for _, rs := range vs.RealServers {
			health := "DOWN"
			if rs.Healthy {
				health = "UP"
			}
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%s\n", rs.Address, rs.Weight, rs.Forwarding, health,
				dash(rs.Check), dash(rs.LastResult), dash(rs.Latency))
		}
		tw.Flush()
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func drops(m map[string]uint64) string {
	var parts []string
	for r, n := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", r, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
