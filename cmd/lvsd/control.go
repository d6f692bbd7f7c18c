package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The control protocol: the client sends one JSON request line, the
// daemon answers one JSON reply line and closes.
type controlRequest struct {
	Command  string `json:"command"`
	Instance string `json:"instance,omitempty"` // drill
	Hold     string `json:"hold,omitempty"`     // drill
}

type controlReply struct {
	OK      bool         `json:"ok"`
	Error   string       `json:"error,omitempty"`
	Status  *statusReply `json:"status,omitempty"`
	Changes []string     `json:"changes,omitempty"` // what a reload did
	Drill   *drillReport `json:"drill,omitempty"`
}

// listenControl opens the control socket, mode 0600: it can stop VRRP
// (drills) and shows the configuration, so it is root's alone.
func (d *daemon) listenControl() (net.Listener, error) {
	path := d.cfg.Global.ControlSocket
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// A socket file left by a daemon that died is removed; one that
	// answers belongs to a running lvsd.
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another lvsd is running", path)
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
	go d.serveControl(l)
	return l, nil
}

func (d *daemon) serveControl(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				d.log.Error("control socket", "err", err)
			}
			return
		}
		go d.handleControl(c)
	}
}

func (d *daemon) handleControl(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute)) // a drill waits for the takeover
	var req controlRequest
	reply := controlReply{OK: true}
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &req)
	}
	switch {
	case err != nil:
		reply = controlReply{Error: "bad request: " + err.Error()}
	case req.Command == "status":
		reply.Status = d.status()
	case req.Command == "drill":
		hold, err := time.ParseDuration(req.Hold)
		if err != nil || hold < 0 {
			reply = controlReply{Error: fmt.Sprintf("bad hold %q", req.Hold)}
			break
		}
		report, err := d.drill(req.Instance, hold)
		if err != nil {
			reply = controlReply{Error: err.Error()}
			break
		}
		reply.Drill = report
		d.log.Info("drill", "instance", report.Instance, "new_master", report.NewMaster, "takeover_ms", report.TakeoverMS, "failure", report.Failure)
	case req.Command == "reload":
		changes, err := d.reload()
		reply.Changes = changes
		if err != nil {
			reply = controlReply{Error: err.Error(), Changes: changes}
			d.log.Error("reload rejected; the running configuration stays", "err", err)
		} else {
			d.log.Info("reloaded", "changes", strings.Join(changes, "; "))
		}
	default:
		reply = controlReply{Error: fmt.Sprintf("unknown command %q", req.Command)}
	}
	json.NewEncoder(c).Encode(reply)
}

// call sends one request to the daemon at socket and returns its reply.
func call(socket string, req controlRequest) (*controlReply, error) {
	return callTimeout(socket, req, 15*time.Second)
}

func callTimeout(socket string, req controlRequest, timeout time.Duration) (*controlReply, error) {
	c, err := net.DialTimeout("unix", socket, 3*time.Second)
	if err != nil {
		return nil, fmt.Errorf("cannot reach lvsd at %s: %w", socket, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return nil, fmt.Errorf("lvsd at %s: %w", socket, err)
	}
	var reply controlReply
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		return nil, fmt.Errorf("lvsd at %s: reading reply: %w", socket, err)
	}
	if !reply.OK {
		return &reply, fmt.Errorf("lvsd: %s", reply.Error)
	}
	return &reply, nil
}
