package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const vrrpBody = "vrrp \"VI_1\" {\n  interface = \"eth0\"\n  virtual_router_id = 51\n  virtual_ips = [\"192.0.2.100/24\"]\n}\n"

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
		{"parentheses in a heredoc interpolation", "a = <<EOF\n${" + strings.Repeat("(", n) + "\nEOF\n", "f.hcl:2,65: Nesting too deep"},
		{"too large", "# " + strings.Repeat("x", MaxFileSize), "f.hcl:1,4194305: Configuration file too large"},
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

// TestBoundsIgnoreText: brackets, operators and markers inside comments,
// strings and heredocs are text, not nesting; a deep but reasonable file
// passes.
func TestBoundsIgnoreText(t *testing.T) {
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	text := strings.Repeat("[{(${!-?", 100)
	srcs := map[string]string{
		"line comments":  "# " + text + "\n// " + text + "\n" + vrrpBody,
		"block comment":  "/* " + text + "\n" + text + " */\n" + vrrpBody,
		"escaped string": "a = \"\\\" $${ %%{ " + strings.Repeat("[", 100) + "\"\n",
		"heredoc":        "a = <<-EOT\n  " + strings.Repeat("[{(", 100) + " $${\n  EOT\nb = 1\n",
		"identifiers":    "a = [" + strings.Repeat("x-", 100) + "y]\n",
		"deep list":      "a = " + deep + "\n",
		"many conditionals apart": "a = [" + strings.Repeat("x ? 1 : 2, ", 100) + "]\n" +
			strings.Repeat("b = x ? 1 : 2\n", 100),
		"interpolation":   "a = \"${\"${x}\"}[[[[\"\n",
		"exactly the max": "a = " + strings.Repeat("[", MaxNesting) + strings.Repeat("]", MaxNesting) + "\n",
	}
	for name, src := range srcs {
		if diags := checkBounds([]byte(src), "f.hcl"); diags.HasErrors() {
			t.Errorf("%s: %s", name, FormatDiagnostic(diags[0]))
		}
	}
	if diags := checkBounds([]byte("a = "+strings.Repeat("[", MaxNesting+1)), "f.hcl"); !diags.HasErrors() {
		t.Error("one past the max: accepted")
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
