package main

import (
	"context"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// sdNotify tells systemd (Type=notify) about the daemon's life; outside
// systemd ($NOTIFY_SOCKET unset) it does nothing.
func (d *daemon) sdNotify(state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		d.log.Warn("systemd notify", "state", state, "err", err)
	}
}

// watchdog pings systemd's watchdog at half its interval while the daemon
// is alive: each ping first takes a status snapshot, which every VRRP
// instance's goroutine must answer, so a hung state machine stops the
// pings and systemd restarts lvsd.
func (d *daemon) watchdog(ctx context.Context) {
	interval, err := sd.SdWatchdogEnabled(false)
	if err != nil || interval == 0 {
		return
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.status()
			d.sdNotify(sd.SdNotifyWatchdog)
		}
	}
}
