package kstruct

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// TestHolesFixture compares kstruct with what pahole printed for the
// structs of testdata/holes.c (testdata/pahole/NAME.txt, from its BTF
// testdata/holes.btf): bit holes in a shared or a forced storage unit, a
// hole before the first member, bit padding, a member whose struct ends
// in padding, zero-sized members, and cache line boundaries inside each
// member of a union. It needs neither pahole nor kernel BTF.
func TestHolesFixture(t *testing.T) {
	s, err := Load(filepath.Join("testdata", "holes.btf"))
	if err != nil {
		t.Fatal(err)
	}
	s.CachelineSize = 64 // as holes.sh ran pahole
	files, err := filepath.Glob(filepath.Join("testdata", "pahole", "*.txt"))
	if err != nil || len(files) < 10 {
		t.Fatalf("testdata/pahole: %d files, %v; want one per struct of holes.c", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := parsePaholeComments(string(b))
			l, err := s.Layout(name, AnonymousOnly)
			if err != nil {
				t.Fatal(err)
			}
			got := commentsOf(l)
			if d := firstDifference(got.body, want.body); d != "" {
				t.Errorf("comments among the members differ from pahole's:\n%s", d)
			}
			if d := firstDifference(got.summary, want.summary); d != "" {
				t.Errorf("summary differs from pahole's:\n%s", d)
			}
		})
	}
}

func TestCachelineSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   fstest.MapFS
		want uint32
	}{
		{"x86_64", fstest.MapFS{
			"index0/level": {Data: []byte("1\n")}, "index0/type": {Data: []byte("Data\n")}, "index0/coherency_line_size": {Data: []byte("64\n")},
			"index1/level": {Data: []byte("1\n")}, "index1/type": {Data: []byte("Instruction\n")}, "index1/coherency_line_size": {Data: []byte("32\n")},
		}, 64},
		{"the instruction cache listed first", fstest.MapFS{
			"index0/level": {Data: []byte("1\n")}, "index0/type": {Data: []byte("Instruction\n")}, "index0/coherency_line_size": {Data: []byte("32\n")},
			"index1/level": {Data: []byte("1\n")}, "index1/type": {Data: []byte("Data\n")}, "index1/coherency_line_size": {Data: []byte("128\n")},
		}, 128},
		{"only level 2", fstest.MapFS{
			"index0/level": {Data: []byte("2\n")}, "index0/type": {Data: []byte("Unified\n")}, "index0/coherency_line_size": {Data: []byte("128\n")},
		}, DefaultCachelineSize},
		{"no cache directory (QEMU's arm64)", fstest.MapFS{}, DefaultCachelineSize},
		{"a zero size", fstest.MapFS{
			"index0/level": {Data: []byte("1\n")}, "index0/type": {Data: []byte("Data\n")}, "index0/coherency_line_size": {Data: []byte("0\n")},
		}, DefaultCachelineSize},
	} {
		if got := cachelineSize(tc.fs); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestKernelHolesCoverEveryByte checks on the running kernel's BTF, with
// no pahole (the kernel matrix's VMs have none): struct nsproxy's 4-byte
// hole right after count (a 4-byte atomic_t or refcount_t before 8-byte
// pointers); and for each struct of holey that no two members overlap,
// that every byte hole and the padding lie where no member is, and that
// the bits no member covers are exactly the holes and padding kstruct
// counts, so that members, holes and padding add up to the size.
func TestKernelHolesCoverEveryByte(t *testing.T) {
	s := requireKernelBTF(t)
	l, err := s.Layout("nsproxy", AnonymousOnly)
	if err != nil {
		t.Fatal(err)
	}
	if c := l.Members[0]; c.Name != "count" || c.Size != 4 || c.Hole != 4 || l.Members[1].Offset != 8 {
		t.Errorf("nsproxy: first member %q of %d bytes with a %d-byte hole, second at %d; want count, 4, a 4-byte hole, 8",
			c.Name, c.Size, c.Hole, l.Members[1].Offset)
	}
	for _, name := range holey {
		l, err := s.Layout(name, AnonymousOnly)
		if err != nil {
			t.Fatal(err)
		}
		checkCoverage(t, l)
	}
}

func checkCoverage(t *testing.T, l *Layout) {
	t.Helper()
	owner := make([]string, l.Size*8) // the member covering each bit
	span := func(m Member) (from, to uint32) {
		if m.BitSize != nil {
			from = m.Offset*8 + *m.BitOffset
			return from, from + *m.BitSize
		}
		return m.Offset * 8, (m.Offset + m.Size) * 8
	}
	for _, m := range l.Members {
		name := m.Name
		if name == "" {
			name = "the anonymous " + m.Type + " at " + strconv.Itoa(int(m.Offset))
		}
		from, to := span(m)
		if to > l.Size*8 {
			t.Errorf("%s: %s ends at bit %d, past the struct's %d bytes", l.Name, name, to, l.Size)
			continue
		}
		for b := from; b < to; b++ {
			if owner[b] != "" {
				t.Errorf("%s: %s and %s overlap at byte %d", l.Name, owner[b], name, b/8)
				break
			}
			owner[b] = name
		}
	}
	free := func(from, to uint32, what string) {
		for b := from * 8; b < to*8; b++ {
			if owner[b] != "" {
				t.Errorf("%s: %s (bytes %d-%d) holds %s at byte %d", l.Name, what, from, to, owner[b], b/8)
				return
			}
		}
	}
	for i, m := range l.Members {
		next := l.Size - l.Padding
		if i+1 < len(l.Members) {
			next = l.Members[i+1].Offset
		}
		if m.Hole > 0 {
			free(next-m.Hole, next, "the hole after "+m.Name)
		}
	}
	free(l.Size-l.Padding, l.Size, "the padding")
	var uncovered uint32
	for _, o := range owner {
		if o == "" {
			uncovered++
		}
	}
	if holes := 8*(l.SumHoles+l.Padding) + l.SumBitHoles + l.BitPadding; uncovered != holes {
		t.Errorf("%s: %d bits are in no member, but holes and padding are %d bits", l.Name, uncovered, holes)
	}
	if sum := 8*l.SumMembers + l.SumBitfieldMembers + uncovered; sum != 8*l.Size {
		t.Errorf("%s: members (%d bytes and %d bits) and the bits in none (%d) are %d bits, not the size %d bytes",
			l.Name, l.SumMembers, l.SumBitfieldMembers, uncovered, sum, l.Size)
	}
}
