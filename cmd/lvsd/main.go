// Command lvsd runs an active/backup pair of IPVS directors: VRRP election,
// health-checked real servers, and kernel connection sync.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand of the contract (DESIGN.md, "Commands").
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// Exit codes shared by the subcommands.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and the answer is no (invalid file, …)
	exitUsage = 2 // the command line itself is wrong
)

var commands = map[string]command{
	"check":             {"validate a configuration file", cmdCheck},
	"run":               {"run the daemon in the foreground", cmdRun},
	"status":            {"show the state of the running daemon", cmdStatus},
	"reload":            {"reload the daemon's configuration (also SIGHUP)", cmdReload},
	"drill":             {"planned failover: the master steps down, the takeover is reported", cmdDrill},
	"ipvs":              {"show the kernel IPVS table like ipvsadm -Ln", cmdIPVS},
	"import-keepalived": {"convert a keepalived.conf to lvsd HCL", cmdImportKeepalived},
	"doctor":            {"check this host for director and real server pitfalls", cmdDoctor},
	"version":           {"print version and build", cmdVersion},
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name := args[0]
	if c, ok := commands[name]; ok {
		return c.run(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "lvsd: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: lvsd COMMAND [options]\n\ncommands:")
	var lines []string
	for name, c := range commands {
		lines = append(lines, fmt.Sprintf("  %-18s %s", name, c.summary))
	}
	sort.Strings(lines)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
	fmt.Fprintln(w, "\nRun 'lvsd COMMAND -h' for a command's options.")
}
