// Package benchtab gathers the figures of `make bench` into one table:
// every benchmark appends its rows to the file named by $LVSD_BENCH_TABLE,
// and ./print renders them together, each lvsd figure beside the
// reference it was measured against in the same run.
package benchtab

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Row is one figure: lvsd's, and what it is held against.
type Row struct {
	Area      string  `json:"area"`      // "VRRP failover", "health checks", "IPVS"
	Measure   string  `json:"measure"`   // what was measured, and how often
	Lvsd      string  `json:"lvsd"`      // lvsd's figure
	Reference string  `json:"reference"` // "keepalived", "RFC 5798 bound", "ipvsadm -R"
	RefValue  string  `json:"ref_value"` // the reference's figure
	Ratio     float64 `json:"ratio"`     // lvsd / reference; 0: none
}

// EnvFile names the file rows are appended to.
const EnvFile = "LVSD_BENCH_TABLE"

// Add appends rows to $LVSD_BENCH_TABLE; without it, it does nothing (the
// benchmark's own output still shows the figures).
func Add(rows ...Row) error {
	path := os.Getenv(EnvFile)
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("bench table: %w", err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("bench table: %w", err)
		}
	}
	return nil
}

// Ratio is a/b, or 0 when b is 0.
func Ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Ms renders a duration in milliseconds, as the table does.
func Ms(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}
