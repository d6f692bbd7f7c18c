package bound

import (
	"strings"
	"testing"
)

const vrrpBody = "vrrp \"VI_1\" {\n  interface = \"eth0\"\n  virtual_router_id = 51\n  virtual_ips = [\"192.0.2.100/24\"]\n}\n"

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
		if diags := Check([]byte(src), "f.hcl"); diags.HasErrors() {
			t.Errorf("%s: %s", name, diags.Error())
		}
	}
	if diags := Check([]byte("a = "+strings.Repeat("[", MaxNesting+1)), "f.hcl"); !diags.HasErrors() {
		t.Error("one past the max: accepted")
	}
}
