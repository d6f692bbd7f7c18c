package conf

import (
	"github.com/lvsd/lvsd/conf/bound"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBoundsRefuseBeforeParsing: files the parser would die on (its stack
// overflows near 100,000 levels: fatal, not a panic) are refused with a
// diagnostic where the limit is crossed.
func TestBoundsRefuseBeforeParsing(t *testing.T) {
	const n = 100_000
	cases := []struct {
		name, src, want string
	}{
		{"brackets", "a = " + strings.Repeat("[", n) + strings.Repeat("]", n), "f.hcl:1,69: Nesting too deep"},
		{"braces on lines", strings.Repeat("b {\n", n), "f.hcl:65,3: Nesting too deep"},
		{"interpolations", "a = " + strings.Repeat(`"${`, n), "f.hcl:1,101: Nesting too deep"},
		{"unary not", "a = " + strings.Repeat("!", n) + "true", "f.hcl:1,69: Nesting too deep"},
		{"unary minus with spaces", "a = " + strings.Repeat("- ", n) + "1", "f.hcl:1,133: Nesting too deep"},
		{"conditionals", "a = " + strings.Repeat("x ? 1 : ", n) + "1", "f.hcl:1,519: Nesting too deep"},
		{"binary operators", "priority = " + strings.Repeat("1+", n) + "1", "f.hcl:1,269: Nesting too deep"},
		{"binary minus", "priority = " + strings.Repeat("1-", n) + "1", "f.hcl:1,269: Nesting too deep"},
		{"comparisons", "a = " + strings.Repeat("x == ", n) + "1", "f.hcl:1,327: Nesting too deep"},
		{"parentheses in a heredoc interpolation", "a = <<EOF\n${" + strings.Repeat("(", n) + "\nEOF\n", "f.hcl:2,65: Nesting too deep"},
		{"too large", "# " + strings.Repeat("x", bound.MaxFileSize), "f.hcl:1,4194305: Configuration file too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(c.src), "f.hcl", labHost)
			if cfg != nil || len(diags) != 1 {
				t.Fatalf("config %v, %d diagnostics %v; want one error", cfg != nil, len(diags), diags)
			}
			if got := FormatDiagnostic(diags[0]); !strings.HasPrefix(got, c.want) {
				t.Errorf("got %q, want it to start with %q", got, c.want)
			}
		})
	}
}

// TestLoadBoundsLargeFile: Load reads no more of a huge file than it needs
// to refuse it.
func TestLoadBoundsLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.hcl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30) // sparse: 1 GiB of NUL bytes, never read whole
	f.Close()
	cfg, diags := Load(path)
	if cfg != nil || len(diags) != 1 || !strings.Contains(FormatDiagnostic(diags[0]), "huge.hcl:1,4194305: Configuration file too large") {
		t.Fatalf("config %v, diagnostics %v", cfg != nil, diags)
	}
}
