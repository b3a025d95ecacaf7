package kstruct

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// The structs the course notes teach, and clone3's argument block.
var taught = []string{"thread_info", "task_struct", "nsproxy", "files_struct", "fdtable", "fs_struct", "mm_struct", "clone_args"}

// requireKernelBTF stops the test when the running kernel exposes no BTF.
func requireKernelBTF(t *testing.T) *Spec {
	t.Helper()
	if _, err := os.Stat(KernelBTF); err != nil {
		testutil.Unavailable(t, "the kernel has no BTF ("+err.Error()+")", "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y")
	}
	s, err := Load("")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

// TestMatchesPahole checks every member's name, offset, size and bit
// position, and the struct's size, against pahole reading the same BTF.
func TestMatchesPahole(t *testing.T) {
	pahole := testutil.RequireCommand(t, "pahole", "dwarves")
	s := requireKernelBTF(t)
	for _, name := range taught {
		t.Run(name, func(t *testing.T) {
			// pahole 1.24 warns on stderr about BTF kinds it predates
			// (type and decl tags); only stdout is its answer.
			out, err := testutil.Output(testutil.Command(t, testutil.Quick, pahole, "-F", "btf", "-C", name, KernelBTF))
			if err != nil {
				t.Fatal(err)
			}
			want, err := parsePahole(out)
			if err != nil {
				t.Fatalf("parsing pahole's output: %v\n%s", err, out)
			}
			l, err := s.Layout(name, AnonymousOnly)
			if err != nil {
				t.Fatal(err)
			}
			if l.Size != want.size {
				t.Errorf("size: nsinspect %d, pahole %d", l.Size, want.size)
			}
			got := flatten(l.Members)
			if len(want.members) == 0 {
				t.Fatal("pahole listed no members")
			}
			if d := diff(got, want.members); d != "" {
				t.Errorf("members differ from pahole's (- nsinspect only, + pahole only):\n%s", d)
			}
			t.Logf("%s: %d bytes, %d members (nested included) agree with pahole", name, l.Size, len(want.members))
		})
	}
}

// runPahole runs pahole with args and returns its stdout. pahole 1.24
// warns on stderr about BTF kinds it predates (type and decl tags), so
// stderr is shown only when it fails.
func runPahole(t *testing.T, pahole string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, pahole, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pahole %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

type paholeStruct struct {
	size    uint32
	members []string
}

// Member lines end in "/* offset size */" or, for a bitfield,
// "/* offset: bit size */".
var (
	paholeMember   = regexp.MustCompile(`^(\s*)(.*?);\s*/\*\s*(\d+)(?::\s*(\d+))?\s+(\d+)\s*\*/$`)
	paholeSize     = regexp.MustCompile(`/\* size: (\d+),`)
	attribute      = regexp.MustCompile(`__attribute__\(\(.*?\)\)+`)
	funcPtrName    = regexp.MustCompile(`\(\*\s*(\w+)\)`)
	lastIdent      = regexp.MustCompile(`(\w+)\s*$`)
	arraySuffix    = regexp.MustCompile(`(\[\d*\])+$`)
	bitfieldSuffix = regexp.MustCompile(`:\d+$`)
)

// parsePahole reads `pahole -C NAME` output: the size and every member
// with a position comment, nested members of anonymous structs and unions
// included, as "name offset size[:bit]" strings.
func parsePahole(out string) (paholeStruct, error) {
	var p paholeStruct
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := paholeSize.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			p.size = uint32(n)
			continue
		}
		m := paholeMember.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := memberName(m[2])
		off, _ := strconv.Atoi(m[3])
		size, _ := strconv.Atoi(m[5])
		p.members = append(p.members, memberKey(name, uint32(off), uint32(size), m[4]))
	}
	if p.size == 0 {
		return p, fmt.Errorf("no size line")
	}
	return p, sc.Err()
}

// memberName is the name in a member line's declaration: "struct list_head
// tasks", "void (*func)(struct callback_head *)", "} __attribute__((...))
// mm_mt" or "}" for an anonymous struct or union ("").
func memberName(decl string) string {
	decl = strings.TrimSpace(attribute.ReplaceAllString(decl, ""))
	switch {
	case strings.HasPrefix(decl, "}"):
		return strings.TrimSpace(strings.TrimPrefix(decl, "}"))
	case funcPtrName.MatchString(decl):
		return funcPtrName.FindStringSubmatch(decl)[1]
	}
	decl = arraySuffix.ReplaceAllString(decl, "")
	decl = bitfieldSuffix.ReplaceAllString(decl, "")
	if id := lastIdent.FindStringSubmatch(decl); id != nil {
		return id[1]
	}
	return ""
}

func memberKey(name string, off, size uint32, bit string) string {
	k := fmt.Sprintf("%s @%d size %d", name, off, size)
	if bit != "" {
		k += " bit " + bit
	}
	return k
}

func flatten(ms []Member) []string {
	var out []string
	for _, m := range ms {
		bit := ""
		if m.BitOffset != nil {
			if *m.BitSize == 0 {
				continue // "unsigned int :0", which pahole prints without a position
			}
			bit = strconv.Itoa(int(*m.BitOffset))
		}
		out = append(out, memberKey(m.Name, m.Offset, m.Size, bit))
		out = append(out, flatten(m.Members)...)
	}
	return out
}

// diff compares two multisets of member keys.
func diff(got, want []string) string {
	count := map[string]int{}
	for _, k := range got {
		count[k]++
	}
	for _, k := range want {
		count[k]--
	}
	var lines []string
	for k, n := range count {
		for ; n > 0; n-- {
			lines = append(lines, "- "+k)
		}
		for ; n < 0; n++ {
			lines = append(lines, "+ "+k)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
