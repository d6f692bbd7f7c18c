package main

import (
	"time"

	"github.com/lvsd/lvsd/internal/control"
)

// call sends one request to the daemon at socket and returns its reply.
func call(socket string, req control.Request) (*control.Reply, error) {
	return control.Call(socket, req, control.CallTimeout)
}

func callTimeout(socket string, req control.Request, timeout time.Duration) (*control.Reply, error) {
	return control.Call(socket, req, timeout)
}
