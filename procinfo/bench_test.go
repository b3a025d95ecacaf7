package procinfo

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// matrixParts is what a clone experiment reads of each side
// (clone/snapshot.go): everything but task/.
const matrixParts = PartFDs | PartIDMaps | PartCgroup | PartTimens | PartFS

// benchChild starts a sleep holding, besides stdin, stdout and stderr, the
// kinds of fd a clone experiment's child has (a pipe's two ends, a socket,
// an eventfd, an nsfs file, a regular file), and pins it. The child is
// killed and reaped at cleanup.
func benchChild(b *testing.B) *Proc {
	b.Helper()
	var files []*os.File
	add := func(fd int, name string) { files = append(files, os.NewFile(uintptr(fd), name)) }
	pr, pw, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	files = append(files, pr, pw)
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	add(sp[0], "socket")
	unix.Close(sp[1])
	ev, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	add(ev, "eventfd")
	for _, path := range []string{"/proc/self/ns/net", os.Args[0]} {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	cmd := testutil.Command(b, testutil.Held, "sleep", "1000")
	cmd.ExtraFiles = files
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	for _, f := range files {
		f.Close()
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	testutil.WaitComm(b, cmd.Process.Pid, "sleep")
	p, err := Open(cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

// BenchmarkSnapshot is one side of a clone experiment: a Snapshot of a
// live child with the parts the matrix reads, and of this process (more
// fds and threads) with all of them.
func BenchmarkSnapshot(b *testing.B) {
	testutil.RequireRoot(b)
	b.Run("child", func(b *testing.B) {
		p := benchChild(b)
		for b.Loop() {
			if _, err := p.Snapshot(matrixParts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("self", func(b *testing.B) {
		p, err := Self()
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		for b.Loop() {
			if _, err := p.Snapshot(allParts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRead is each reader of a Snapshot on its own, on the child of
// BenchmarkSnapshot.
func BenchmarkRead(b *testing.B) {
	testutil.RequireRoot(b)
	p := benchChild(b)
	for _, r := range []struct {
		name string
		read func() error
	}{
		{"Stat", func() error { _, err := p.Stat(); return err }},
		{"Status", func() error { _, err := p.Status(); return err }},
		{"FDInfo", func() error { _, err := p.FDInfo(0); return err }},
		{"FDs", func() error { _, err := p.FDs(); return err }},
		{"UIDMap", func() error { _, err := p.UIDMap(); return err }},
		{"Cgroups", func() error { _, err := p.Cgroups(); return err }},
		{"Namespaces", func() error { _, err := p.Namespaces(); return err }},
		{"MountInfo", func() error { _, err := p.MountInfo(); return err }},
		{"ReadFile", func() error { _, err := p.ReadFile("timens_offsets"); return err }},
		{"Readlink", func() error { _, err := p.Readlink("cwd"); return err }},
	} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				if err := r.read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchParse parses each fixture matching testdata/<pattern> once per
// iteration, through the exported io.Reader API.
func benchParse[T any](b *testing.B, pattern string, parse func(io.Reader) (T, error)) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		b.Fatalf("no fixtures match testdata/%s", pattern)
	}
	var texts [][]byte
	for _, name := range files {
		text, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		texts = append(texts, text)
	}
	var r bytes.Reader
	b.ReportAllocs()
	for b.Loop() {
		for _, text := range texts {
			r.Reset(text)
			if _, err := parse(&r); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// The parser benchmarks run on the fixtures (one op parses each of them
// once): captured /proc files of a real machine.
func BenchmarkParseStatus(b *testing.B)    { benchParse(b, "status/self", ParseStatus) }
func BenchmarkParseFDInfo(b *testing.B)    { benchParse(b, "fdinfo/*", ParseFDInfo) }
func BenchmarkParseMountInfo(b *testing.B) { benchParse(b, "mountinfo/*", ParseMountInfo) }
func BenchmarkParseIDMap(b *testing.B)     { benchParse(b, "idmap/*", ParseIDMap) }
func BenchmarkParseCgroup(b *testing.B)    { benchParse(b, "cgroup/*", ParseCgroup) }
func BenchmarkParseSysvipc(b *testing.B)   { benchParse(b, "sysvipc/*", ParseSysvipc) }

func BenchmarkParseStat(b *testing.B) {
	line := string(fixture(b, "status/self.stat"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseStat(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseNSFSMounts(b *testing.B) {
	text := fixture(b, "mountinfo/nsfs")
	b.ReportAllocs()
	for b.Loop() {
		ParseNSFSMounts(text)
	}
}
