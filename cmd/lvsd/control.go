package main

import (
	"context"
	"net"
	"time"

	"github.com/lvsd/lvsd/internal/control"
)

// The control protocol's types, under the names this package used.
type (
	controlRequest   = control.Request
	controlReply     = control.Reply
	statusReply      = control.Status
	instanceStatus   = control.Instance
	transition       = control.Transition
	serviceStatus    = control.Service
	realServerStatus = control.RealServer
	drillReport      = control.DrillReport
)

// listenControl opens the control socket and answers on it.
func (d *daemon) listenControl() (net.Listener, error) {
	l, err := control.Listen(d.cfg.Global.ControlSocket)
	if err != nil {
		return nil, err
	}
	go control.Serve(context.Background(), l, controlHandler{d}, d.log)
	return l, nil
}

// controlHandler is the daemon as the control socket sees it.
type controlHandler struct{ d *daemon }

func (h controlHandler) Status() *control.Status   { return h.d.status() }
func (h controlHandler) Reload() ([]string, error) { return h.d.reload() }
func (h controlHandler) Drill(name string, hold time.Duration) (*control.DrillReport, error) {
	return h.d.drill(name, hold)
}

// call sends one request to the daemon at socket and returns its reply.
func call(socket string, req controlRequest) (*controlReply, error) {
	return control.Call(socket, req, control.CallTimeout)
}

func callTimeout(socket string, req controlRequest, timeout time.Duration) (*controlReply, error) {
	return control.Call(socket, req, timeout)
}
