package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Handler is the daemon side of the protocol.
type Handler interface {
	Status() *Status
	Reload() (changes []string, err error)
	Drill(instance string, hold time.Duration) (*DrillReport, error)
}

// ErrRunning means another daemon answers on the control socket.
var ErrRunning = errors.New("another lvsd is running")

// requestLimit bounds a request line: a request is a few dozen bytes.
const requestLimit = 4096

// Listen opens the control socket at path, mode 0600: it can stop VRRP
// (drills) and shows the configuration, so it is root's alone. A socket
// file left by a daemon that died is removed; one that answers belongs to
// a running lvsd and makes Listen fail with ErrRunning.
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, ErrRunning)
	}
	os.Remove(path)
	old := umask(0o177)
	l, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return l, nil
}

// Serve answers requests on l with h until l is closed or ctx ends. It
// holds at most 32 connections; one has 5 s to send its request and 2 min
// for the whole exchange (a drill waits for the takeover).
func Serve(ctx context.Context, l net.Listener, h Handler, log *slog.Logger) {
	serveWith(ctx, l, h, log, defaultLimits)
}

func serveWith(ctx context.Context, l net.Listener, h Handler, log *slog.Logger, lim limits) {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	set := &connSet{max: lim.maxConns}
	var logged time.Time
	acceptLoop(ctx, l, log, func(c net.Conn) {
		t, evicted, ok := set.admit(c)
		if !ok {
			c.Close()
		}
		if (evicted || !ok) && time.Since(logged) >= logEvery {
			open, evicted, refused := set.counts()
			logged = time.Now()
			log.Warn("control socket: connection cap reached; idle connections evicted, the rest refused",
				"max", lim.maxConns, "open", open, "evicted", evicted, "refused", refused)
		}
		if ok {
			go handle(t, set, h, log, lim)
		}
	})
}

func handle(c *trackedConn, set *connSet, h Handler, log *slog.Logger, lim limits) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(lim.requestWait))
	var req Request
	reply := Reply{OK: true}
	line, err := bufio.NewReaderSize(&limitReader{c, requestLimit}, requestLimit).ReadBytes('\n')
	if !set.busy(c) {
		return // evicted while its request arrived: not run
	}
	c.SetDeadline(time.Now().Add(lim.exchange))
	if err == nil {
		err = json.Unmarshal(line, &req)
	}
	switch {
	case err != nil:
		reply = Reply{Error: "bad request: " + err.Error()}
	case req.Command == CmdStatus:
		reply.Status = h.Status()
	case req.Command == CmdDrill:
		hold, err := time.ParseDuration(req.Hold)
		if err != nil || hold < 0 {
			reply = Reply{Error: fmt.Sprintf("bad hold %q", req.Hold)}
			break
		}
		report, err := h.Drill(req.Instance, hold)
		if err != nil {
			reply = Reply{Error: err.Error()}
			break
		}
		reply.Drill = report
		log.Info("drill", "instance", report.Instance, "new_master", report.NewMaster, "takeover_ms", report.TakeoverMS, "failure", report.Failure)
	case req.Command == CmdReload:
		changes, err := h.Reload()
		reply.Changes = changes
		if err != nil {
			reply = Reply{Error: err.Error(), Changes: changes}
			log.Error("reload rejected; the running configuration stays", "err", err)
		} else {
			log.Info("reloaded", "changes", strings.Join(changes, "; "))
		}
	default:
		reply = Reply{Error: fmt.Sprintf("unknown command %q", req.Command)}
	}
	json.NewEncoder(c).Encode(reply)
}

// limitReader ends a request that grows past its limit.
type limitReader struct {
	c net.Conn
	n int
}

func (r *limitReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("request too long")
	}
	if len(p) > r.n {
		p = p[:r.n]
	}
	n, err := r.c.Read(p)
	r.n -= n
	return n, err
}
