package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// statusReply is the daemon's state as `lvsd status --json` shows it.
// Field names are stable: scripts read them.
type statusReply struct {
	RouterID       string           `json:"router_id"`
	Version        string           `json:"version"`
	PID            int              `json:"pid"`
	Config         string           `json:"config"`
	Started        time.Time        `json:"started"`
	Reloads        uint64           `json:"reloads"`
	ReloadFailures uint64           `json:"reload_failures"`
	Instances      []instanceStatus `json:"instances"`
	Services       []serviceStatus  `json:"virtual_servers,omitempty"`
	Sync           *syncStatus      `json:"connection_sync,omitempty"`
}

type instanceStatus struct {
	Name              string            `json:"name"`
	Interface         string            `json:"interface"`
	VRID              uint8             `json:"vrid"`
	Version           int               `json:"version"`
	State             string            `json:"state"`
	Priority          uint8             `json:"priority"`
	EffectivePriority uint8             `json:"effective_priority"`
	Master            string            `json:"master,omitempty"`
	MasterInterval    string            `json:"master_interval,omitempty"`
	VIPs              []string          `json:"vips"`
	LastTransition    *transition       `json:"last_transition,omitempty"`
	AdvertsSent       uint64            `json:"adverts_sent"`
	AdvertsReceived   uint64            `json:"adverts_received"`
	Transitions       uint64            `json:"transitions"`
	Reasserts         uint64            `json:"reasserts"`
	Drops             map[string]uint64 `json:"drops"`
	Faults            []string          `json:"faults,omitempty"`
}

type transition struct {
	From  string    `json:"from"`
	To    string    `json:"to"`
	Cause string    `json:"cause"`
	At    time.Time `json:"at"`
}

func (d *daemon) status() *statusReply {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := &statusReply{
		RouterID: d.cfg.Global.RouterID, Version: version, PID: os.Getpid(),
		Config: d.cfg.File, Started: d.started,
		Reloads: d.reloadOK.Load(), ReloadFailures: d.reloadKO.Load(),
	}
	for _, run := range d.node.Instances() {
		s, ok := run.Instance.Status()
		if !ok {
			continue
		}
		is := instanceStatus{
			Name: s.Name, Interface: s.Interface, VRID: s.VRID, Version: int(s.Version),
			State: s.State.String(), Priority: s.Priority, EffectivePriority: s.Effective,
			AdvertsSent: s.Sent, AdvertsReceived: s.Received, Reasserts: s.Reasserts, Transitions: s.Transitions,
			Drops: map[string]uint64{}, Faults: s.Faults, VIPs: []string{},
		}
		if s.MasterIP.IsValid() {
			is.Master, is.MasterInterval = s.MasterIP.String(), s.MasterInterval.String()
		}
		for _, v := range s.VIPs {
			is.VIPs = append(is.VIPs, v.String())
		}
		if !s.Last.At.IsZero() {
			is.LastTransition = &transition{From: s.Last.From.String(), To: s.Last.To.String(), Cause: s.Last.Cause, At: s.Last.At}
		}
		for r, n := range s.Drops {
			is.Drops[string(r)] = n
		}
		r.Instances = append(r.Instances, is)
	}
	if d.director != nil {
		r.Services = d.director.status()
	}
	if cs := d.connSync.Load(); cs != nil {
		r.Sync = cs.status()
	}
	return r
}

// socketFlags adds the -c/-s flags the client commands share and returns
// a function resolving them to the daemon's socket.
func socketFlags(fs *flag.FlagSet) func() (string, error) {
	file := fs.String("c", "", "find the daemon through this configuration `FILE`'s control_socket")
	sock := fs.String("s", "", "the daemon's control `SOCKET` (default "+conf.DefaultControlSocket+")")
	return func() (string, error) {
		switch {
		case *sock != "" && *file != "":
			return "", fmt.Errorf("give -c or -s, not both")
		case *sock != "":
			return *sock, nil
		case *file != "":
			cfg, diags := conf.Load(*file)
			if diags.HasErrors() {
				return "", fmt.Errorf("%s is invalid (lvsd check -c %s)", *file, *file)
			}
			return cfg.Global.ControlSocket, nil
		}
		if _, err := os.Stat(DefaultConfig); err == nil {
			if cfg, diags := conf.Load(DefaultConfig); !diags.HasErrors() {
				return cfg.Global.ControlSocket, nil
			}
		}
		return conf.DefaultControlSocket, nil
	}
}

func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	socket := socketFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd status [--json] [-c FILE | -s SOCKET]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	path, err := socket()
	if err != nil {
		fmt.Fprintln(stderr, "lvsd status:", err)
		return exitUsage
	}
	reply, err := call(path, controlRequest{Command: "status"})
	if err != nil {
		fmt.Fprintln(stderr, "lvsd status:", err)
		return exitFail
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(reply.Status)
		return exitOK
	}
	printStatus(stdout, reply.Status)
	return exitOK
}

func printStatus(w io.Writer, s *statusReply) {
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
	}
	fmt.Fprintln(w)
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
