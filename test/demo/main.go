// Command demo is `make demo`: a narrated director pair, built on the
// embedded lab. On a host whose kernel has IPVS it runs in namespaces
// here; otherwise inside the VM of the test tier, which has it.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/test/vm"
)

func main() {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "make demo: needs root (it builds network namespaces and programs IPVS)")
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	fmt.Println("lvsd demo: an active/backup pair of IPVS directors, narrated.")
	lvsd, err := lvsdtest.Binary()
	check(err)
	guest, err := vm.BuildStatic(ctx, "github.com/lvsd/lvsd/test/director/guest", "vmguest")
	check(err)
	// The demo is a guest test; like every guest run, it must report PASS.
	demo := vm.GuestTests{Binary: guest, Path: "/bin/director.test", Run: "^TestDemo$", Args: []string{"-test.timeout", "5m"}, Want: []string{"TestDemo"}}
	narration := &narrator{}

	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		fmt.Println("This host's kernel has IPVS: the lab runs in namespaces here.")
		argv := demo.Command()
		cmd := exec.CommandContext(ctx, guest, argv[1:]...)
		cmd.Env = append(os.Environ(), vm.GuestEnvMarker+"=1", lvsdtest.BinaryEnv+"="+lvsd)
		var console strings.Builder
		cmd.Stdout = io.MultiWriter(narration, &console)
		cmd.Stderr = cmd.Stdout
		err = cmd.Run()
		narration.flush()
		finish(start, vm.RequirePass(&vm.Result{Console: console.String(), Passed: err == nil, ExitCode: cmd.ProcessState.ExitCode()}, demo.Want), narration)
		return
	}
	fmt.Println("This host's kernel has no IPVS: booting Debian's cloud kernel, which has it, under qemu (a few seconds).")
	k, err := vm.Prepare(ctx)
	check(err)
	res, err := vm.Run(ctx, vm.Spec{
		Kernel:       k,
		Files:        map[string]string{"/bin/lvsd": lvsd, demo.Path: guest},
		Env:          []string{lvsdtest.BinaryEnv + "=/bin/lvsd"},
		HostPrograms: []string{"/usr/sbin/ipvsadm"},
		Command:      demo.Command(),
		Timeout:      8 * time.Minute,
		MemoryMB:     1024,
		CPUs:         2,
		Console:      narration,
	})
	check(err)
	finish(start, vm.RequirePass(res, demo.Want), narration)
}

// narrator shows the demo's narration and keeps the rest of the output
// for when something goes wrong.
type narrator struct {
	partial string
	rest    []string
}

func (n *narrator) Write(p []byte) (int, error) {
	n.partial += string(p)
	for {
		i := strings.IndexByte(n.partial, '\n')
		if i < 0 {
			break
		}
		n.line(n.partial[:i])
		n.partial = n.partial[i+1:]
	}
	// The VM console writes whole lines without their newline.
	if !strings.Contains(string(p), "\n") {
		n.line(n.partial)
		n.partial = ""
	}
	return len(p), nil
}

func (n *narrator) line(l string) {
	if i := strings.Index(l, "demo: "); i >= 0 {
		fmt.Println(l[i+len("demo: "):])
		return
	}
	n.rest = append(n.rest, l)
	if len(n.rest) > 60 {
		n.rest = n.rest[1:]
	}
}

func (n *narrator) flush() {
	if n.partial != "" {
		n.line(n.partial)
	}
}

func finish(start time.Time, err error, n *narrator) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nmake demo: a step failed (%v); the last lines of output:\n", err)
		w := bufio.NewWriter(os.Stderr)
		for _, l := range n.rest {
			fmt.Fprintln(w, l)
		}
		w.Flush()
		os.Exit(1)
	}
	fmt.Printf("\nThe demo ran in %s, and left nothing behind.\n", time.Since(start).Round(time.Second))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "make demo:", err)
		os.Exit(1)
	}
}
