package control

import (
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// Timeouts of a call: reaching the socket, and the whole exchange (a
// drill waits for the peer's takeover, so its caller passes more).
const (
	DialTimeout = 3 * time.Second
	CallTimeout = 15 * time.Second
)

// Call sends one request to the daemon at socket and returns its reply.
// A reply that is not OK comes back with an error carrying its message.
func Call(socket string, req Request, timeout time.Duration) (*Reply, error) {
	c, err := net.DialTimeout("unix", socket, DialTimeout)
	if err != nil {
		return nil, fmt.Errorf("cannot reach lvsd at %s: %w", socket, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return nil, fmt.Errorf("lvsd at %s: %w", socket, err)
	}
	var reply Reply
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		return nil, fmt.Errorf("lvsd at %s: reading reply: %w", socket, err)
	}
	if !reply.OK {
		return &reply, fmt.Errorf("lvsd: %s", reply.Error)
	}
	return &reply, nil
}

// GetStatus asks the daemon at socket for its status.
func GetStatus(socket string) (*Status, error) {
	reply, err := Call(socket, Request{Command: CmdStatus}, CallTimeout)
	if err != nil {
		return nil, err
	}
	if reply.Status == nil {
		return nil, fmt.Errorf("lvsd at %s: a status reply without a status", socket)
	}
	return reply.Status, nil
}
