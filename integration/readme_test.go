package integration

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's sample output from a real run of its first command")

// readmeVolatile are the values of a clone report that change from run to
// run. Each is replaced by a placeholder in both the README's sample and
// a real run's output before the two are compared; everything else (the
// flags, every verdict and its reason, the layout, the wording) must match.
var readmeVolatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b(pid|NSpid)( [0-9]+)+`), "$1 N"},           // pids: "parent pid 3457", "NSpid 3458 3"
	{regexp.MustCompile(`\bids [0-9]+ (==|!=) [0-9]+`), "ids N $1 N"}, // namespace ids (NS_GET_ID)
	{regexp.MustCompile(`:\[[0-9]+\]`), ":[N]"},                       // nsfs and pipe inodes: "net:[4026532180]", "pipe:[17681]"
	{regexp.MustCompile(`= [12]\b`), "= 1|2"},                         // kcmp's order of two objects, random per boot
	{regexp.MustCompile(`0x[0-9a-f]+`), "0xN"},                        // the memory probe's word and address, IPC keys
	{regexp.MustCompile(`nsi-?probe-?[0-9a-f]+`), "nsi-probe-X"},      // the probes' random names
	{regexp.MustCompile(`\b127\.77\.[0-9]+\.[0-9]+\b`), "127.77.X.Y"}, // the net-link probe's random address
}

func normalizeReport(s string) string {
	for _, v := range readmeVolatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// TestReadmeFirstCommand runs the README's first command (the first
// "go run ./cmd/nsinspect ..." line) with the built binary and checks the
// sample under "## What the first command shows" against its output,
// modulo readmeVolatile, so that the sample cannot drift from what
// nsinspect prints. -update-readme rewrites the sample from the run.
func TestReadmeFirstCommand(t *testing.T) {
	testutil.RequireRoot(t)
	if !features.Has(features.NSGetID) {
		testutil.Unavailable(t, "the README's sample shows namespace ids, and this kernel has no NS_GET_ID (Linux 6.18)", "run on Linux 6.18 or later")
	}
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	args, err := firstCommand(readme)
	if err != nil {
		t.Fatal(err)
	}
	start, end, err := sampleBlock(readme)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := runCmd(t, exec.CommandContext(ctx, binary, args...))
	if r.code != 0 {
		t.Fatalf("nsinspect %q: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	if *updateReadme {
		if err := os.WriteFile("../README.md", []byte(readme[:start]+r.stdout+readme[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, got := strings.Split(normalizeReport(readme[start:end]), "\n"), strings.Split(normalizeReport(r.stdout), "\n")
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Fatalf("README.md's sample differs from `nsinspect %s` at line %d (after masking per-run values):\nREADME: %q\nrun:    %q\n(rerun with -update-readme if the change is meant)\nfull output:\n%s", strings.Join(args, " "), i+1, w, g, r.stdout)
		}
	}
}

// firstCommand is the arguments of the README's first "go run
// ./cmd/nsinspect" line, split as sh would split them (words and
// single-quoted strings).
func firstCommand(readme string) ([]string, error) {
	const prefix = "    go run ./cmd/nsinspect "
	for _, line := range strings.Split(readme, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			return shellWords(rest)
		}
	}
	return nil, fmt.Errorf("README.md has no line %q", prefix+"...")
}

func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// sampleBlock finds the text of the first fenced block after the heading
// "## What the first command shows": readme[start:end], fences excluded.
func sampleBlock(readme string) (start, end int, err error) {
	const heading = "\n## What the first command shows\n"
	h := strings.Index(readme, heading)
	if h < 0 {
		return 0, 0, fmt.Errorf("README.md has no heading %q", strings.TrimSpace(heading))
	}
	open := strings.Index(readme[h:], "\n```\n")
	if open < 0 {
		return 0, 0, fmt.Errorf("no fenced block after %q", strings.TrimSpace(heading))
	}
	start = h + open + len("\n```\n")
	closing := strings.Index(readme[start:], "```\n")
	if closing < 0 {
		return 0, 0, fmt.Errorf("the sample block after %q is not closed", strings.TrimSpace(heading))
	}
	return start, start + closing, nil
}
