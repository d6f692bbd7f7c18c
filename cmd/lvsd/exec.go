package main

import "github.com/lvsd/lvsd/internal/script"

// The script runner, under the names the daemon uses.
type (
	scriptRunner = script.Runner
	runnerRef    = script.Ref
)

func newScriptRunner(name string) (*scriptRunner, error) { return script.NewRunner(name) }
