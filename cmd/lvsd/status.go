package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/internal/control"
)

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
		r.Services = d.director.Status()
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
	control.WriteStatus(stdout, reply.Status)
	return exitOK
}
