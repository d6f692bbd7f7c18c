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
	reply, err := call(path, control.Request{Command: "status"})
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
