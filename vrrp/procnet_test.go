package vrrp

import (
	"strings"
	"testing"
)

// Tables as Linux prints them (6.x): the header names columns that rows
// print joined, so the parser counts row fields.
const (
	procRaw = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
   1: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41001 2 00000000a1b2c3d4 0
 112: 00000000:0070 00000000:0000 07 00000000:00034000 00:00000000 00000000     0        0 260418 2 0000000092202631 1234
`
	procRaw6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  202: 00000000000000000000000000000000:0070 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 260419 2 000000005ae9487f 7
`
)

func TestParseProcNetRawDrops(t *testing.T) {
	for _, c := range []struct {
		name  string
		table string
		ino   uint64
		want  uint64
		err   string
	}{
		{"v4 socket with drops", procRaw, 260418, 1234, ""},
		{"v4 socket without", procRaw, 41001, 0, ""},
		{"v6 socket", procRaw6, 260419, 7, ""},
		{"inode prefix is not a match", procRaw, 2604, 0, "not in the raw socket table"},
		{"header only", strings.SplitAfter(procRaw, "\n")[0], 260418, 0, "not in the raw socket table"},
		{"short row", "header\n 1: 0:0 0:0 07\n", 7, 0, "not in the raw socket table"},
		{"bad drops", "header\n 1: a b 07 q w r u t 9 2 p x\n", 9, 0, "drops of socket 9"},
	} {
		got, err := parseProcNetRawDrops(strings.NewReader(c.table), c.ino)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.err)
		case got != c.want:
			t.Errorf("%s: %d drops, want %d", c.name, got, c.want)
		}
	}
}
