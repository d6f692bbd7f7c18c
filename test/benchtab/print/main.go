// Command print renders the rows the benchmarks appended to one file as
// the single table of `make bench`.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/lvsd/lvsd/test/benchtab"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: print ROWS.jsonl")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AREA\tMEASURE\tLVSD\tAGAINST\tTHEIRS\tLVSD/THEIRS")
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var r benchtab.Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			fmt.Fprintln(os.Stderr, "bad row:", err)
			os.Exit(1)
		}
		ratio := "-"
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Area, r.Measure, r.Lvsd, r.Reference, r.RefValue, ratio)
		n++
	}
	tw.Flush()
	if n == 0 {
		fmt.Fprintln(os.Stderr, "no benchmark wrote a row")
		os.Exit(1)
	}
}
