// Command labsweep removes every namespace left by lvsd's namespace lab
// (test/lab), killing the processes inside. Run it when no lab test is
// running, e.g. from make before and after the lab tier:
//
//	go run ./test/lab/labsweep
package main

import (
	"fmt"
	"os"

	"github.com/lvsd/lvsd/test/lab"
)

func main() {
	removed, err := lab.Sweep()
	for _, name := range removed {
		fmt.Println("removed", name)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "labsweep:", err)
		os.Exit(1)
	}
}
