package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: no input panics the parser, and a Config comes back exactly
// when there is no error.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*/*.hcl", "../examples/*.hcl"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	// Files the parser's stack would not survive (finding 5 of issue 10):
	// the bounds must refuse them first.
	for _, deep := range []string{"[", "{", "(", "!", "-", `"${`, "x ? 1 : "} {
		f.Add([]byte("a = " + strings.Repeat(deep, 100_000)))
	}
	f.Add([]byte("a = <<EOT\n${" + strings.Repeat("(", 100_000) + "\nEOT\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := Parse(src, "fuzz.hcl", labHost)
		if (cfg == nil) != diags.HasErrors() {
			t.Fatalf("config %v with diagnostics %v", cfg != nil, diags)
		}
	})
}
