package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/lvsd/lvsd/internal/doctor"
)

// lvsd doctor: the checks are in internal/doctor; this reads the command
// line, wires the kernel and the control socket in, and maps the report
// to the exit code.

func cmdDoctor(args []string, stdout, stderr io.Writer) int {
	return runDoctor(args, stderr, func(opts doctor.Options) doctor.Result {
		return doctor.Run(stdout, doctor.Kernel{}, doctor.FromDaemon, opts)
	})
}

// runDoctor parses args into the options of run: exit 2 for a wrong
// command line, else 1 when the report has a problem.
func runDoctor(args []string, stderr io.Writer, run func(doctor.Options) doctor.Result) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", DefaultConfig, "check this host as the director of configuration `FILE`")
	listen := fs.Duration("listen", 0, "listen this long for VRRP adverts of other routers using our VRIDs (0: skip)")
	var vips []netip.Addr
	fs.Func("real-server", "check this host as a real server for `VIP` (repeat, or a comma list)", func(s string) error {
		for _, f := range strings.Split(s, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			ip, err := netip.ParseAddr(f)
			if err != nil {
				p, perr := netip.ParsePrefix(f)
				if perr != nil {
					return fmt.Errorf("%q is not an IP address", f)
				}
				ip = p.Addr()
			}
			vips = append(vips, ip.Unmap())
		}
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd doctor [-c FILE] [--listen D] [--real-server VIP[,VIP…]]\n\n"+
			"Checks this host, as the director of FILE or as a real server for VIP, for the\n"+
			"known pitfalls. Prints one line per check: ok|PROBLEM|warning: what — fix: command.\n"+
			"Exit 0 when there is no PROBLEM, 1 when there is.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 || *listen < 0 {
		fs.Usage()
		return exitUsage
	}
	explicitFile := false
	fs.Visit(func(f *flag.Flag) { explicitFile = explicitFile || f.Name == "c" })
	opts := doctor.Options{Listen: *listen, RealServer: vips}
	if explicitFile || len(vips) == 0 {
		if !explicitFile {
			if _, err := os.Stat(*file); errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(stderr, "lvsd doctor: no configuration at %s: give -c FILE on a director, or --real-server VIP on a real server\n", *file)
				return exitUsage
			}
		}
		opts.Config = *file
	}
	if run(opts).Count(doctor.Problem) > 0 {
		return exitFail
	}
	return exitOK
}
