package healthcheck

import (
	"context"
	"net/netip"
)

// tcpChecker is up when the server accepts a connection: the handshake
// completes within the timeout.
type tcpChecker struct {
	target netip.AddrPort
	dial   dialer
}

func (c *tcpChecker) Check(ctx context.Context) Result {
	clk := startClock(ctx)
	_, release, err := c.dial.dial(ctx, "tcp", c.target)
	if err != nil {
		return clk.failed(ctx, "connecting", err)
	}
	release()
	return clk.up("connected")
}
