package vm

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spec describes one guest run.
type Spec struct {
	// Kernel to boot; nil means Prepare(ctx).
	Kernel *Kernel
	// Files maps guest paths to host files copied as they are, e.g. static
	// binaries from BuildStatic. ELF files must be statically linked.
	Files map[string]string
	// Data maps guest paths to contents (configs, scripts). Contents that
	// start with "#!" are made executable.
	Data map[string][]byte
	// HostPrograms are dynamically linked host programs (e.g.
	// "/usr/sbin/ipvsadm"), copied to the same path with the shared
	// libraries ldd finds for them.
	HostPrograms []string
	// Modules to insmod, dependencies included automatically. nil loads
	// DefaultModules; an empty non-nil slice loads none and puts no module
	// in the image.
	Modules []string
	// Command is the argv /init runs after setup, as root in /, with PATH
	// set and stdout and stderr on the console.
	Command []string
	// Env holds extra KEY=VALUE pairs for Command.
	Env []string
	// Timeout bounds the whole boot; 0 means DefaultTimeout.
	Timeout time.Duration
	// Console, if set, receives the serial console live, one complete line
	// (without the newline) per Write. See LogFunc.
	Console io.Writer
	// MemoryMB is the guest RAM; 0 means 512.
	MemoryMB int
	// CPUs is the number of virtual CPUs; 0 means 1. Under TCG more CPUs
	// cost host threads, not speed per CPU.
	CPUs int
}

// DefaultTimeout bounds a guest run when Spec.Timeout is 0.
const DefaultTimeout = 3 * time.Minute

// Result is the outcome of a guest run that produced a verdict.
type Result struct {
	ExitCode int      // exit status of Spec.Command in the guest
	Passed   bool     // ExitCode == 0
	Console  string   // full console output, "\r" and terminal escapes removed
	Modules  []Module // modules put in the image and loaded, in order
	// InitramfsBytes is the size of the uncompressed initramfs.
	InitramfsBytes int64
	// Boot is the time from starting qemu to /init running; Total is the
	// time until qemu exited.
	Boot, Total time.Duration
}

// LogFunc adapts a printf-style logger such as testing.T.Logf to
// Spec.Console: vm.LogFunc(t.Logf).
type LogFunc func(format string, args ...any)

// Write logs p as one line.
func (f LogFunc) Write(p []byte) (int, error) {
	f("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// Run boots the kernel with an initramfs built from spec, runs
// spec.Command and returns its verdict. A failing command is not an error
// (see Result.Passed); failing to get a verdict is: qemu not starting, a
// kernel panic, a module that does not load, or the timeout. Errors carry
// the tail of the console. Run removes its temporary files and may be
// called from parallel tests.
func Run(ctx context.Context, spec Spec) (*Result, error) {
	if len(spec.Command) == 0 {
		return nil, errors.New("vm: Spec.Command is empty")
	}
	k := spec.Kernel
	if k == nil {
		var err error
		if k, err = Prepare(ctx); err != nil {
			return nil, err
		}
	}
	mods, err := k.Modules(ctx, spec.Modules)
	if err != nil {
		return nil, err
	}
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	script, err := initScript(nonce, k.Version, mods, spec.Env, spec.Command)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "lvsd-vm-")
	if err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	defer os.RemoveAll(tmp)
	initrd := filepath.Join(tmp, "initramfs.cpio")
	size, err := writeInitramfs(ctx, initrd, image{
		kernel:  k,
		modules: mods,
		files:   spec.Files,
		data:    spec.Data,
		progs:   spec.HostPrograms,
		init:    []byte(script),
	})
	if err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}

	timeout := cmp.Or(spec.Timeout, DefaultTimeout)
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := []string{
		"-accel", "tcg", // KVM is present on the host but does not boot here
		"-m", strconv.Itoa(cmp.Or(spec.MemoryMB, 512)),
		"-smp", strconv.Itoa(cmp.Or(spec.CPUs, 1)),
		"-nographic", "-no-reboot", // with panic=-1: a panic ends qemu
		"-nic", "none",
		"-kernel", k.Vmlinuz,
		"-initrd", initrd,
		"-append", "console=ttyS0 quiet panic=-1 no_timer_check", // no_timer_check: under a loaded host TCG may miss the boot-time IO-APIC timer test and panic
	}
	cmd := exec.CommandContext(runCtx, "qemu-system-x86_64", args...)
	con := &console{out: spec.Console, initMark: marker(nonce) + "init"}
	cmd.Stdout, cmd.Stderr = con, con
	cmd.WaitDelay = 5 * time.Second
	con.start = time.Now()
	runErr := cmd.Run()
	total := time.Since(con.start)
	con.flush()

	text := con.String()
	if i := strings.Index(text, marker(nonce)+"setup-failed: "); i >= 0 {
		why, _, _ := strings.Cut(text[i+len(marker(nonce)+"setup-failed: "):], "\n")
		return nil, fmt.Errorf("vm: guest setup failed: %s; last console lines:\n%s", why, tail(text, 30))
	}
	// A verdict counts even if qemu then had to be killed: the command
	// under test did finish.
	m := verdictRE(nonce).FindAllStringSubmatch(text, -1)
	if len(m) == 0 {
		what := "no verdict from the guest"
		switch {
		case runCtx.Err() != nil && ctx.Err() == nil:
			what = fmt.Sprintf("guest did not finish within the %v timeout", timeout)
		case ctx.Err() != nil:
			what = ctx.Err().Error()
		case strings.Contains(text, "Kernel panic"):
			what = "kernel panic"
		case runErr != nil:
			what = fmt.Sprintf("qemu failed (%v)", runErr)
		case !strings.Contains(text, marker(nonce)+"init"):
			what = "/init never started"
		}
		return nil, fmt.Errorf("vm: %s; last console lines:\n%s", what, tail(text, 30))
	}
	code, _ := strconv.Atoi(m[len(m)-1][1])
	return &Result{
		ExitCode:       code,
		Passed:         code == 0,
		Console:        text,
		Modules:        mods,
		InitramfsBytes: size,
		Boot:           con.boot,
		Total:          total,
	}, nil
}

// console collects qemu's output, forwards complete lines to out and notes
// when /init announced itself.
type console struct {
	mu       sync.Mutex
	out      io.Writer
	all      strings.Builder
	partial  []byte
	initMark string
	start    time.Time
	boot     time.Duration
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		c.line(c.partial[:i])
		c.partial = c.partial[i+1:]
	}
	return n, nil
}

// ansiRE matches the terminal control sequences SeaBIOS and the kernel
// send to the serial port; they only garble logs.
var ansiRE = regexp.MustCompile(`\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])|\r`)

func (c *console) line(l []byte) {
	l = ansiRE.ReplaceAll(l, nil)
	c.all.Write(l)
	c.all.WriteByte('\n')
	if c.boot == 0 && bytes.Contains(l, []byte(c.initMark)) {
		c.boot = time.Since(c.start)
	}
	if c.out != nil {
		c.out.Write(l) // a failing log sink must not stop the guest
	}
}

// flush forwards a trailing line without newline.
func (c *console) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.partial) > 0 {
		c.line(c.partial)
		c.partial = nil
	}
}

func (c *console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.all.String()
}

func newNonce() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("vm: nonce: %w", err)
	}
	return hex.EncodeToString(b), nil
}
