// Package script runs the operator's programs for every part of lvsd
// (notify, track_script and script checks): argv as given, no shell, as
// script_user, in a session of its own that is killed whole when the
// script ends or times out, with its output read up to a limit. vrrp and
// healthcheck take it through their Runner interfaces.
package script

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Runner runs notify, track and check scripts: argv as given, no shell,
// as the configured user, in a session (and process group) of its own.
// When the script exits, or ctx ends and it is killed, whatever it left
// running in its process group is killed, and its session too when
// something of it may have left the group, so no child outlives it (one
// that calls setsid itself leaves the session: only a cgroup holds that).
// Its output is read up to outputLimit and never waited for beyond
// outputGrace once the script has ended.
type Runner struct {
	cred *syscall.Credential // nil: run as lvsd's own user
	log  *slog.Logger        // truncated output is logged here
}

// NewRunner resolves the user scripts run as. Switching user needs
// root; running as lvsd's own user needs nothing.
func NewRunner(name string) (*Runner, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("script_user %q: %w", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if int(uid) == os.Getuid() {
		return &Runner{}, nil
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("script_user %q: running scripts as another user needs root", name)
	}
	return &Runner{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
}

// WithLog returns a runner like r that logs truncated output to log
// (slog.Default() otherwise).
func (r *Runner) WithLog(log *slog.Logger) *Runner {
	c := *r
	c.log = log
	return &c
}

const (
	// killGrace is how long a script has between SIGTERM and SIGKILL.
	killGrace = 500 * time.Millisecond
	// outputLimit is how much of a script's output is kept, the end of
	// it, for the error message; the rest is read and thrown away, so a
	// script printing without end costs no memory.
	outputLimit = 4 << 10
	// outputGrace is how long the output is still read once the script
	// has exited and its session been killed: a child that escaped both
	// and holds the pipe open must not hold up the next script.
	outputGrace = 100 * time.Millisecond
)

// Run runs argv until it exits or ctx ends; then it kills what the script
// left behind and returns. The error says how it failed, with the end of
// its output.
func (r *Runner) Run(ctx context.Context, argv []string) error {
	rd, wr, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("output pipe: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	// Setsid: a session, and a process group, of its own (pgid = sid =
	// pid), apart from lvsd's; no controlling terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: r.cred}
	cmd.Dir = "/"
	// An *os.File, not a Writer: exec then starts no copying goroutine
	// and Wait waits for the process only, not for every holder of the
	// pipe (a child left running would hold Wait until it exits).
	cmd.Stdout, cmd.Stderr = wr, wr
	err = cmd.Start()
	wr.Close()
	if err != nil {
		rd.Close()
		return err
	}
	out := &output{}
	read := make(chan struct{})
	go func() { out.readFrom(rd); close(read) }()

	sid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { waitExited(sid); close(exited) }()
	var killed error
	select {
	case <-exited:
	case <-ctx.Done():
		killed = ctx.Err()
		signalSession(sid, syscall.SIGTERM, true)
		t := time.NewTimer(killGrace)
		select {
		case <-exited:
		case <-t.C:
		}
		t.Stop()
	}
	// The leader is not reaped yet (waitExited leaves it a zombie), so its
	// pid, group and session ids cannot be reused meanwhile: whatever
	// still runs under them is the script's.
	signalSession(sid, syscall.SIGKILL, killed != nil)
	<-exited
	werr := cmd.Wait()
	if !out.wait(read, outputGrace) && killed == nil {
		// Something outside the group still holds the output: it
		// left the group but maybe not the session.
		signalSession(sid, syscall.SIGKILL, true)
	}
	rd.Close()
	<-read
	if out.total > outputLimit {
		r.logger().Warn("script output truncated", "argv", argv, "bytes", out.total, "kept", outputLimit)
	}
	switch {
	case killed != nil:
		return fmt.Errorf("killed after timeout: %w%s", killed, out.tail())
	case werr != nil:
		return fmt.Errorf("%w%s", werr, out.tail())
	}
	return nil
}

func (r *Runner) logger() *slog.Logger {
	if r.log != nil {
		return r.log
	}
	return slog.Default()
}

// output keeps the last outputLimit bytes of a script's output and
// counts the rest.
type output struct {
	mu    sync.Mutex
	buf   []byte // at most 2*outputLimit; the last outputLimit count
	total int64
}

func (o *output) readFrom(f *os.File) {
	chunk := make([]byte, 32<<10)
	for {
		n, err := f.Read(chunk)
		if n > 0 {
			o.mu.Lock()
			o.total += int64(n)
			o.buf = append(o.buf, chunk[:min(n, outputLimit)]...)
			if len(o.buf) > 2*outputLimit {
				o.buf = append(o.buf[:0], o.buf[len(o.buf)-outputLimit:]...)
			}
			o.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// wait waits at most grace for the output to end; false if it did not.
func (o *output) wait(read <-chan struct{}, grace time.Duration) bool {
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-read:
		return true
	case <-t.C:
		return false
	}
}

// tail returns the end of a script's output for an error message.
func (o *output) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.buf
	if len(b) > outputLimit {
		b = b[len(b)-outputLimit:]
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > 200 || o.total > int64(len(o.buf)) {
		s = "…" + s[max(0, len(s)-200):]
	}
	return ": " + strings.ReplaceAll(s, "\n", " / ")
}

// Ref is the runner in force: a reload that changes script_user swaps it
// for every script at once (notify, track, checks). Close kills every
// script still running through it.
type Ref struct {
	p    sync.Mutex
	cur  *Runner
	kill context.Context
	end  context.CancelFunc
	runs sync.WaitGroup
}

// NewRef holds r.
func NewRef(r *Runner) *Ref {
	ref := &Ref{cur: r}
	ref.kill, ref.end = context.WithCancel(context.Background())
	return ref
}

// Store makes r the runner of every script from now on.
func (r *Ref) Store(runner *Runner) {
	r.p.Lock()
	defer r.p.Unlock()
	r.cur = runner
}

// Run runs argv with the runner in force; after Close it runs nothing.
func (r *Ref) Run(ctx context.Context, argv []string) error {
	r.p.Lock()
	if r.kill.Err() != nil {
		r.p.Unlock()
		return fmt.Errorf("%s not run: lvsd is stopping", argv[0])
	}
	runner := r.cur
	r.runs.Add(1)
	r.p.Unlock()
	defer r.runs.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(r.kill, cancel)
	defer stop()
	return runner.Run(ctx, argv)
}

// Close kills every script still running through r, with its session,
// and waits for them: at exit, nothing started by lvsd outlives it.
func (r *Ref) Close() {
	r.p.Lock()
	r.end()
	r.p.Unlock()
	r.runs.Wait()
}
