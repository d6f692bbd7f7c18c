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

// client is a command that talks to the running daemon: its flags, with
// the -c/-s pair that finds the daemon, and its usage.
type client struct {
	name   string
	fs     *flag.FlagSet
	stderr io.Writer
	file   *string
	sock   *string
}

func newClient(name, usage string, stderr io.Writer) *client {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &client{name: name, fs: fs, stderr: stderr,
		file: fs.String("c", "", "find the daemon through this configuration `FILE`'s control_socket"),
		sock: fs.String("s", "", "the daemon's control `SOCKET` (default "+conf.DefaultControlSocket+")"),
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return c
}

// parse reads args and resolves the daemon's socket; when it fails, code
// is the exit status: usage for a wrong command line, exitFail for a
// FILE given with -c that is invalid, whose diagnostics are printed as
// `lvsd check` prints them and the daemon is not asked.
func (c *client) parse(args []string) (socket string, code int) {
	if err := c.fs.Parse(args); err != nil || c.fs.NArg() > 0 {
		return "", exitUsage
	}
	switch {
	case *c.sock != "" && *c.file != "":
		c.fail(fmt.Errorf("give -c or -s, not both"))
		return "", exitUsage
	case *c.sock != "":
		return *c.sock, exitOK
	case *c.file != "":
		cfg, diags := conf.Load(*c.file)
		if diags.HasErrors() {
			writeInvalid(c.stderr, *c.file, diags)
			c.fail(fmt.Errorf("the daemon was not asked (give -s SOCKET to reach it regardless of %s)", *c.file))
			return "", exitFail
		}
		return cfg.Global.ControlSocket, exitOK
	}
	if _, err := os.Stat(DefaultConfig); err == nil {
		if cfg, diags := conf.Load(DefaultConfig); !diags.HasErrors() {
			return cfg.Global.ControlSocket, exitOK
		}
	}
	return conf.DefaultControlSocket, exitOK
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
