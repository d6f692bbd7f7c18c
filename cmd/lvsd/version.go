package main

import (
	"fmt"
	"io"
	"runtime"
)

// Set by the Makefile: -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: lvsd version")
		return exitUsage
	}
	fmt.Fprintf(stdout, "lvsd %s (commit %s, built %s, %s %s/%s)\n",
		version, commit, date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
