package policy

import (
	"os"
	"strings"
	"testing"
)

// TestDocsPolicy parses the YAML of docs/policy.md: the complete example
// and any other whole policy (a block that starts with version:) as a
// policy, and each other block as the expect of a rule, so that the
// reference cannot show what Parse refuses.
func TestDocsPolicy(t *testing.T) {
	data, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(data), "```yaml\n")[1:]
	if len(blocks) < 7 {
		t.Fatalf("%d yaml blocks in docs/policy.md", len(blocks))
	}
	for i, b := range blocks {
		b = b[:strings.Index(b, "```")]
		if i == 0 {
			p, err := Parse("docs/policy.md example", []byte(b))
			if err != nil {
				t.Fatalf("the complete example: %v", err)
			}
			if len(p.Rules()) != 4 {
				t.Errorf("the complete example has %d rules", len(p.Rules()))
			}
			continue
		}
		if strings.HasPrefix(b, "version:") {
			p, err := Parse("docs/policy.md block", []byte(b))
			if err != nil {
				t.Errorf("docs/policy.md yaml block %d:\n%s\n%v", i+1, b, err)
			} else if len(p.EventRules()) == 0 {
				t.Errorf("docs/policy.md yaml block %d, a whole policy, has no event rules", i+1)
			}
			continue
		}
		src := "version: 1\nrules:\n  - name: r\n    expect:\n" + indent(b, "      ")
		if _, err := Parse("block", []byte(src)); err != nil {
			t.Errorf("docs/policy.md yaml block %d:\n%s\n%v", i+1, b, err)
		}
	}
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = by + l
	}
	return strings.Join(lines, "\n") + "\n"
}
