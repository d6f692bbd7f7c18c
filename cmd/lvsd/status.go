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

// client is a command that talks to the running daemon: its flags, with
// the -c/-s pair that finds the daemon, and its usage.
type client struct {
	name   string
	fs     *flag.FlagSet
	stderr io.Writer
	socket func() (string, error)
}

func newClient(name, usage string, stderr io.Writer) *client {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &client{name: name, fs: fs, stderr: stderr, socket: socketFlags(fs)}
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return c
}

// parse reads args and resolves the daemon's socket; when it fails, code
// is the exit status (usage).
func (c *client) parse(args []string) (socket string, code int) {
	if err := c.fs.Parse(args); err != nil || c.fs.NArg() > 0 {
		return "", exitUsage
	}
	socket, err := c.socket()
	if err != nil {
		c.fail(err)
		return "", exitUsage
	}
	return socket, exitOK
}

func (c *client) fail(err error) { fmt.Fprintf(c.stderr, "lvsd %s: %v\n", c.name, err) }

func cmdStatus(args []string, stdout, stderr io.Writer) int {
	c := newClient("status", "usage: lvsd status [--json] [-c FILE | -s SOCKET]", stderr)
	asJSON := c.fs.Bool("json", false, "print JSON")
	socket, code := c.parse(args)
	if code != exitOK {
		return code
	}
	reply, err := control.Call(socket, control.Request{Command: control.CmdStatus}, control.CallTimeout)
	if err != nil {
		c.fail(err)
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
