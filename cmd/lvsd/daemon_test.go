package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvsd/lvsd/conf"
)

// Once stopping, lvsd refuses a reload or a drill that raced the stop,
// with a clear reason, instead of starting what the stop is tearing down.
func TestStoppingRefusesReloadAndDrill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lvsd.hcl")
	if err := os.WriteFile(path, []byte("global {\n  router_id = \"dir-a\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := conf.Load(path)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	d, err := newDaemon(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), &slog.LevelVar{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.reload(); err != nil {
		t.Fatalf("reload before the stop: %v", err)
	}
	d.stopAll()
	if _, err := d.reload(); !errors.Is(err, errStopping) {
		t.Errorf("reload while stopping: %v", err)
	}
	if _, err := d.drill("", 0); !errors.Is(err, errStopping) {
		t.Errorf("drill while stopping: %v", err)
	}
	if got := d.reloadKO.Load(); got != 1 {
		t.Errorf("%d failed reloads counted, want 1", got)
	}
}
