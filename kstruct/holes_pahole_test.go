package kstruct

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// The structs whose holes the course has students read with pahole.
var holey = []string{"task_struct", "nsproxy", "files_struct", "fdtable", "thread_info", "mm_struct", "cred", "ns_common", "pid_namespace", "fs_struct", "clone_args"}

// TestHolesMatchPahole checks, for each struct of holey, every comment
// pahole prints among the members (byte and bit holes after which member,
// padding of a member's struct, cache line boundaries before which member,
// nested structs included) and its summary lines at the end (size, cache
// lines, members, the sums of members and holes, padding, last cache line)
// against kstruct's, both with the machine's cache line.
func TestHolesMatchPahole(t *testing.T) {
	pahole := testutil.RequireCommand(t, "pahole", "dwarves")
	getconf := testutil.RequireCommand(t, "getconf", "libc-bin")
	s := requireKernelBTF(t)

	// pahole's default line is glibc's sysconf, 64 if it says nothing;
	// nsinspect reads sysfs.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, getconf, "LEVEL1_DCACHE_LINESIZE").CombinedOutput()
	if err != nil {
		t.Fatalf("getconf LEVEL1_DCACHE_LINESIZE: %v\n%s", err, out)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("getconf LEVEL1_DCACHE_LINESIZE: %q: %v", out, err)
	}
	if n <= 0 {
		n = DefaultCachelineSize
	}
	if uint32(n) != MachineCachelineSize() {
		t.Errorf("cache line: pahole's is %d bytes (getconf), nsinspect's %d", n, MachineCachelineSize())
	}

	for _, name := range holey {
		t.Run(name, func(t *testing.T) {
			want := parsePaholeComments(runPahole(t, pahole, "-F", "btf", "-C", name, KernelBTF))
			l, err := s.Layout(name, AnonymousOnly)
			if err != nil {
				t.Fatal(err)
			}
			if len(want.body) < len(l.Members) || len(want.summary) == 0 {
				t.Fatalf("read %d lines among the members and %d summary lines from pahole's output; want a line per member and a summary", len(want.body), len(want.summary))
			}
			got := commentsOf(l)
			if d := firstDifference(got.body, want.body); d != "" {
				t.Errorf("comments among the members differ from pahole's:\n%s", d)
			}
			if d := firstDifference(got.summary, want.summary); d != "" {
				t.Errorf("summary differs from pahole's:\n%s", d)
			}
			t.Logf("%s: %d holes (%d bytes), %d bit holes, padding %d, %d boundaries: as pahole",
				name, l.Holes, l.SumHoles, l.BitHoles, l.Padding, strings.Count(strings.Join(got.body, "\n"), "cacheline"))
		})
	}
}

// TestHolesFixtureIsPaholes checks that testdata/pahole, which
// TestHolesFixture compares kstruct with where there is no pahole, is what
// this pahole prints for testdata/holes.btf.
func TestHolesFixtureIsPaholes(t *testing.T) {
	pahole := testutil.RequireCommand(t, "pahole", "dwarves")
	files, err := filepath.Glob(filepath.Join("testdata", "pahole", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata/pahole: %v, %d files", err, len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := runPahole(t, pahole, "-F", "btf", "--cacheline_size=64", "-C", name, filepath.Join("testdata", "holes.btf"))
		if got != string(want) {
			t.Errorf("pahole -C %s testdata/holes.btf differs from %s (run testdata/holes.sh):\n%s", name, f, got)
		}
	}
}

// paholeComments is pahole's output as the test compares it: in body,
// "DEPTH member NAME" for each member line and "DEPTH COMMENT" for each
// hole, padding and cache line comment, DEPTH being the indentation; in
// summary, the lines after "/* size: ...".
type paholeComments struct {
	body, summary []string
}

func parsePaholeComments(out string) paholeComments {
	var p paholeComments
	inSummary := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		depth := len(line) - len(strings.TrimLeft(line, "\t"))
		text := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(text, "/* size: "):
			inSummary = true
			p.summary = append(p.summary, text)
		case inSummary && strings.HasPrefix(text, "/* forced alignments:"):
			// inferred from offsets: kstruct does not
		case inSummary && strings.HasPrefix(text, "/*"):
			p.summary = append(p.summary, text)
		case strings.HasPrefix(text, "/* XXX ") || strings.HasPrefix(text, "/* --- cacheline "):
			p.body = append(p.body, fmt.Sprintf("%d %s", depth, text))
		default:
			if m := paholeMember.FindStringSubmatch(line); m != nil {
				p.body = append(p.body, fmt.Sprintf("%d member %s", depth, memberName(m[2])))
			}
		}
	}
	return p
}

// commentsOf walks l as pahole prints it.
func commentsOf(l *Layout) paholeComments {
	var p paholeComments
	add := func(depth int, lines ...string) {
		for _, s := range lines {
			p.body = append(p.body, fmt.Sprintf("%d %s", depth, s))
		}
	}
	add(1, l.Leading()...)
	var walk func(ms []Member, depth int)
	walk = func(ms []Member, depth int) {
		for i := range ms {
			c := l.Comments(&ms[i])
			add(depth, c.Before...)
			add(depth+1, c.First...)
			walk(ms[i].Members, depth+1)
			add(depth, "member "+ms[i].Name)
			add(depth, c.After...)
		}
	}
	walk(l.Members, 1)
	p.summary = l.Summary()
	return p
}

// firstDifference shows where two line lists first differ, with context.
func firstDifference(got, want []string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	if i == len(got) && i == len(want) {
		return ""
	}
	from := max(0, i-3)
	show := func(ls []string) string {
		return strings.Join(ls[min(from, len(ls)):min(i+4, len(ls))], "\n\t")
	}
	return fmt.Sprintf("first difference at line %d of %d (nsinspect) and %d (pahole):\nnsinspect:\n\t%s\npahole:\n\t%s",
		i+1, len(got), len(want), show(got), show(want))
}
