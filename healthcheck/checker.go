package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// Checker runs one check of one real server. ctx carries the check's
// timeout as its deadline: Check returns by then, whatever the server
// does, so a hung server costs at most the timeout. Check is called from
// one goroutine at a time.
type Checker interface {
	Check(ctx context.Context) Result
}

// Result is the outcome of one check.
type Result struct {
	Up      bool
	Reason  string        // short and human: "HTTP 503, want 200", "connect: connection refused"
	Latency time.Duration // from the start of the check to its verdict
	Err     error         // the cause when down, for errors.Is; nil when up
}

// Runner runs a command to completion. The daemon's runner runs argv as
// script_user, without a shell, in a process group of its own that it
// kills when ctx ends.
type Runner interface {
	Run(ctx context.Context, argv []string) error
}

// NewChecker builds the checker that cfg describes for the real server at
// addr; cfg.Port is its port (conf has already defaulted it). runner is
// used by script checks only and may be nil for the other kinds.
func NewChecker(addr netip.Addr, cfg Config, runner Runner) (Checker, error) {
	target := netip.AddrPortFrom(addr, cfg.Port)
	needPort := func() error {
		if cfg.Port == 0 {
			return fmt.Errorf("%s check of %s: no port", cfg.Kind, addr)
		}
		return nil
	}
	switch cfg.Kind {
	case TCP:
		if err := needPort(); err != nil {
			return nil, err
		}
		return &tcpChecker{target: target, dial: newDialer(cfg.SourceIP)}, nil
	case HTTP:
		if err := needPort(); err != nil {
			return nil, err
		}
		return newHTTPChecker(target, cfg)
	case Script:
		if len(cfg.Script.Command) == 0 {
			return nil, fmt.Errorf("script check of %s: empty command", addr)
		}
		if runner == nil {
			return nil, fmt.Errorf("script check of %s: no runner", addr)
		}
		return newScriptChecker(cfg.Script.Command, runner), nil
	case DNS:
		if err := needPort(); err != nil {
			return nil, err
		}
		return newDNSChecker(target, cfg)
	}
	return nil, fmt.Errorf("check of %s: %s", addr, cfg.Kind)
}

// Every check kind is a Checker.
var (
	_ Checker = (*tcpChecker)(nil)
	_ Checker = (*httpChecker)(nil)
	_ Checker = (*scriptChecker)(nil)
	_ Checker = (*dnsChecker)(nil)
)

// dialer dials from the configured source address, if any. Each check
// dials afresh: a check proves that the server accepts new connections
// now, which a pooled connection would not.
type dialer struct {
	source netip.Addr
}

func newDialer(source netip.Addr) dialer { return dialer{source: source} }

// dial connects within ctx's deadline and sets the connection's deadline
// to it, so every later read and write is bounded too; cancelling ctx
// (monitor stop, target removed) unblocks them at once.
func (d dialer) dial(ctx context.Context, network string, to netip.AddrPort) (net.Conn, func(), error) {
	nd := net.Dialer{KeepAlive: -1} // a check's connection lives less than a keepalive interval
	if d.source.IsValid() {
		switch network {
		case "udp":
			nd.LocalAddr = &net.UDPAddr{IP: d.source.AsSlice(), Zone: d.source.Zone()}
		default:
			nd.LocalAddr = &net.TCPAddr{IP: d.source.AsSlice(), Zone: d.source.Zone()}
		}
	}
	conn, err := nd.DialContext(ctx, network, to.String())
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	release := func() {
		stop()
		_ = conn.Close()
	}
	return conn, release, nil
}

// checkError is a failed check: its message is the short reason shown to
// the user, its cause stays reachable through errors.Is and errors.As.
type checkError struct {
	reason string
	cause  error
}

func (e *checkError) Error() string { return e.reason }
func (e *checkError) Unwrap() error { return e.cause }

// clock times one check and phrases its verdict.
type clock struct {
	start  time.Time
	budget time.Duration // the timeout, for "timeout after 1s …"
}

// budgetKey carries a check's configured timeout in its context.
type budgetKey struct{}

// WithTimeout bounds one check by timeout, as context.WithTimeout does, and
// records it, so a check that runs out says "timeout after" the timeout the
// operator configured rather than whatever was left when it started.
func WithTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return context.WithValue(ctx, budgetKey{}, timeout), cancel
}

func startClock(ctx context.Context) clock {
	c := clock{start: time.Now()}
	if b, ok := ctx.Value(budgetKey{}).(time.Duration); ok {
		c.budget = b
	} else if dl, ok := ctx.Deadline(); ok {
		c.budget = dl.Sub(c.start).Round(time.Millisecond)
	}
	return c
}

func (c clock) up(reason string) Result {
	return Result{Up: true, Reason: reason, Latency: time.Since(c.start)}
}

// down is a failure the server answered with (wrong status, body, rcode).
func (c clock) down(cause error, format string, args ...any) Result {
	err := &checkError{reason: fmt.Sprintf(format, args...), cause: cause}
	return Result{Reason: err.reason, Latency: time.Since(c.start), Err: err}
}

// failed is a failure of the exchange itself during phase ("connecting",
// "reading body"): a timeout says how long it waited and where.
func (c clock) failed(ctx context.Context, phase string, err error) Result {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return c.down(err, "canceled %s", phase)
	case isTimeout(ctx, err):
		return c.down(err, "timeout after %s %s", c.budget, phase)
	}
	return c.down(err, "%s", describe(phase, err))
}

func isTimeout(ctx context.Context, err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return ctx.Err() != nil
}

// describe shortens Go's network errors to what the user needs: the
// system call and its errno ("connect: connection refused") rather than
// "dial tcp 127.0.0.1:1→127.0.0.1:80: connect: connection refused", whose
// addresses the status line already shows.
func describe(phase string, err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return phase + ": connection closed early"
	case errors.Is(err, io.EOF):
		return phase + ": connection closed"
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Syscall + ": " + se.Err.Error()
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return phase + ": " + errno.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return phase + ": " + oe.Err.Error()
	}
	return phase + ": " + err.Error()
}
