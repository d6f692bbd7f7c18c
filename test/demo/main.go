// Command demo is `make demo`: a narrated director pair, built on the
// embedded lab. On a host whose kernel has IPVS it runs in namespaces
// here; otherwise inside the VM of the test tier, which has it.
package main

import (
	"bufio"
	"context"
	"fmt"

	"os"
	"os/exec"
	"strings"
	"time"

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
	lvsd, err := vm.BuildStaticMain(ctx, "github.com/lvsd/lvsd/cmd/lvsd")
	check(err)
	guest, err := vm.BuildStatic(ctx, "github.com/lvsd/lvsd/test/director/guest", "vmguest")
	check(err)
	args := []string{"-test.run", "^TestDemo$", "-test.count", "1", "-test.timeout", "5m"}
	narration := &narrator{}

	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		fmt.Println("This host's kernel has IPVS: the lab runs in namespaces here.")
		cmd := exec.CommandContext(ctx, guest, args...)
		cmd.Env = append(os.Environ(), "LVSD_VM_GUEST=1", "LVSD_BIN="+lvsd)
		cmd.Stdout, cmd.Stderr = narration, narration
		err = cmd.Run()
		narration.flush()
		finish(start, err == nil, narration)
		return
	}
	fmt.Println("This host's kernel has no IPVS: booting Debian's cloud kernel, which has it, under qemu (a few seconds).")
	k, err := vm.Prepare(ctx)
	check(err)
	res, err := vm.Run(ctx, vm.Spec{
		Kernel:       k,
		Files:        map[string]string{"/bin/lvsd": lvsd, "/bin/director.test": guest},
		HostPrograms: []string{"/usr/sbin/ipvsadm"},
		Command:      append([]string{"/bin/director.test"}, args...),
		Timeout:      8 * time.Minute,
		MemoryMB:     1024,
		CPUs:         2,
		Console:      narration,
	})
	check(err)
	finish(start, res.Passed, narration)
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

func finish(start time.Time, ok bool, n *narrator) {
	if !ok {
		fmt.Fprintln(os.Stderr, "\nmake demo: a step failed; the last lines of output:")
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
