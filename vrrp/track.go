package vrrp

import (
	"context"
	"log/slog"
	"time"
)

// ScriptTracker runs one track_script at its interval and reports its
// result, after rise successes or fall failures in a row, to every
// instance that tracks it. The first result is reported as it is.
type ScriptTracker struct {
	cfg    TrackScript
	runner Runner
	log    *slog.Logger
	report func(name string, ok bool)
}

// NewScriptTracker prepares a tracker; report is called on each change.
func NewScriptTracker(cfg TrackScript, runner Runner, log *slog.Logger, report func(name string, ok bool)) *ScriptTracker {
	return &ScriptTracker{cfg: cfg, runner: runner, log: log.With("track_script", cfg.Name), report: report}
}

// Run runs the script until ctx ends.
func (s *ScriptTracker) Run(ctx context.Context) {
	var (
		known, ok bool
		streak    int // consecutive results that disagree with ok
	)
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		err := s.runner.Run(rctx, s.cfg.Command)
		cancel()
		if ctx.Err() != nil {
			return
		}
		result := err == nil
		switch {
		case !known:
			known, ok = true, result
			s.changed(ok, err)
		case result == ok:
			streak = 0
		default:
			streak++
			if result && streak >= s.cfg.Rise || !result && streak >= s.cfg.Fall {
				ok, streak = result, 0
				s.changed(ok, err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *ScriptTracker) changed(ok bool, err error) {
	if ok {
		s.log.Info("track script succeeds")
	} else {
		s.log.Warn("track script fails", "err", err)
	}
	s.report(s.cfg.Name, ok)
}
