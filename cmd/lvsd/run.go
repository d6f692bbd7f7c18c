package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/internal/daemon"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", DefaultConfig, "configuration `FILE`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd run [-c FILE]\n\nRuns the daemon in the foreground until SIGTERM or SIGINT.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	cfg, diags := conf.Load(*file)
	if diags.HasErrors() {
		conf.WriteDiagnostics(stderr, diags)
		fmt.Fprintf(stderr, "lvsd run: %s is invalid; nothing started\n", *file)
		return exitFail
	}
	// `check` warns about what this host lacks; `run` cannot work without it.
	if conf.RefusesRun(diags) {
		conf.WriteDiagnostics(stderr, diags)
		fmt.Fprintln(stderr, "lvsd run: this host does not match the configuration; nothing started")
		return exitFail
	}
	conf.WriteDiagnostics(stderr, diags) // warnings about the file: it runs
	// One daemon per control socket, decided before anything is touched:
	// a second `lvsd run` must not open a VRRP socket, add or delete a
	// VIP, or change IPVS or the sync daemon of the one running.
	unlock, lockErr := daemon.Lock(cfg.Global.ControlSocket)
	if lockErr != nil {
		fmt.Fprintf(stderr, "lvsd run: %v; nothing started\n", lockErr)
		return exitFail
	}
	defer unlock()
	level := new(slog.LevelVar)
	level.Set(cfg.Global.LogLevel)
	log := newLogger(cfg.Global, level, stderr)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	d, err := daemon.New(ctx, cfg, daemon.SystemHost(), daemon.Options{Log: log, Level: level, Version: version})
	if err == nil {
		err = d.Run(hup)
	}
	if err != nil {
		log.Error("lvsd stopped", "err", err)
		return exitFail
	}
	return exitOK
}

func newLogger(g conf.Global, level slog.Leveler, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if g.LogFormat == conf.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
