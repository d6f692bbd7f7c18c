package conf

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// fakeHost is a machine with eth0 and eth1 and every program present.
type fakeHost struct {
	ifaces   []string
	programs map[string]bool // nil: every program exists
	addrs    map[string][]IfaceAddr
}

func (h fakeHost) Hostname() string { return "test-host" }
func (h fakeHost) HasInterface(name string) bool {
	for _, i := range h.ifaces {
		if i == name {
			return true
		}
	}
	return false
}
func (h fakeHost) Executable(path string) error {
	if h.programs == nil || h.programs[path] {
		return nil
	}
	return os.ErrNotExist
}

func (h fakeHost) Addresses(name string) ([]IfaceAddr, error) { return h.addrs[name], nil }

var labHost = fakeHost{ifaces: []string{"eth0", "eth1"}}

var wantMarker = regexp.MustCompile(`# want: (.*)$`)

// TestBrokenFixtures checks every rule against a fixture whose offending
// lines carry "# want: TEXT": each such line must get an error containing
// TEXT, and no other error may appear.
func TestBrokenFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/broken/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int]string{}
			for i, line := range strings.Split(string(src), "\n") {
				if m := wantMarker.FindStringSubmatch(line); m != nil {
					want[i+1] = m[1]
				}
			}
			if len(want) == 0 {
				t.Fatal("fixture has no # want: marker")
			}
			cfg, diags := Parse(src, file, labHost)
			if cfg != nil {
				t.Errorf("Parse returned a Config for an invalid file")
			}
			got := map[int][]string{}
			for _, d := range diags.Errs() {
				diag := d.(*hcl.Diagnostic)
				if diag.Subject == nil {
					t.Errorf("diagnostic without a position: %s", FormatDiagnostic(diag))
					continue
				}
				got[diag.Subject.Start.Line] = append(got[diag.Subject.Start.Line], FormatDiagnostic(diag))
			}
			for line, text := range want {
				found := false
				for _, g := range got[line] {
					found = found || strings.Contains(g, text)
				}
				if !found {
					t.Errorf("line %d: want an error containing %q, got %q", line, text, got[line])
				}
			}
			for line, gs := range got {
				if _, ok := want[line]; !ok {
					t.Errorf("line %d: unexpected error(s) %q", line, gs)
				}
			}
		})
	}
}
