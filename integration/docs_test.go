package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// Shell completion comes from cobra; it must work with our root command.
func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash": "__start_nsinspect",
		"zsh":  "#compdef nsinspect",
		"fish": "complete -c nsinspect",
	} {
		out := mustRun(t, "completion", shell)
		if !strings.Contains(out, marker) {
			t.Errorf("completion %s lacks %q", shell, marker)
		}
	}
	// The completion engine itself lists our commands.
	out := mustRun(t, "__complete", "")
	for _, c := range []string{"fds", "show", "kthreads"} {
		if !strings.Contains(out, c+"\t") {
			t.Errorf("__complete does not offer %s:\n%s", c, out)
		}
	}
	if strings.Contains(out, "man\t") {
		t.Errorf("the hidden man command is offered:\n%s", out)
	}
}

// `nsinspect man DIR` writes one page per visible command, each holding
// the command's own help text.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "nsinspect-mangen")
	testutil.MustRun(t, testutil.Command(t, testutil.Slow, "go", "build", "-tags", "mangen", "-o", gen, "../cmd/nsinspect"))
	dir = filepath.Join(dir, "man")
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, gen, "man", dir))
	for page, text := range map[string]string{
		"nsinspect.1":          "nsinspect",
		"nsinspect-fds.1":      "fdinfo",
		"nsinspect-show.1":     "PF_KTHREAD",
		"nsinspect-kthreads.1": "kthreadd",
	} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("page %s: %v", page, err)
			continue
		}
		if !strings.Contains(string(b), "\n.TH \"NSINSPECT\" \"1\"") || !strings.Contains(string(b), text) {
			t.Errorf("page %s: not a man page about %q", page, text)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "nsinspect-man.1")); err == nil {
		t.Error("the hidden man command got a page")
	}
}

// Every --expect list in the README and the example workflow parses: a
// documented assertion that exits 2 would break every job that copies it.
func TestDocumentedExpectations(t *testing.T) {
	for _, file := range []string{"../README.md", "../docs/ci-example.yml"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, f := range strings.Fields(string(b)) {
			f = strings.TrimRight(strings.TrimLeft(f, "`"), "`.,")
			if !strings.Contains(f, "=shared") && !strings.Contains(f, "=separate") || strings.HasPrefix(f, "NAME=") {
				continue
			}
			found++
			if r := nsinspect(t, "compare", "self", "self", "--expect", f); r.code != 0 && r.code != 1 {
				t.Errorf("%s: --expect %s: exit %d: %s", file, f, r.code, r.stderr)
			}
		}
		if found == 0 {
			t.Errorf("%s: no --expect list found", file)
		}
	}
}
