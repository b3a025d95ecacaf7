package render

import (
	"bytes"
	"slices"
	"testing"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/golden"
)

func TestGoldenFDsKernel(t *testing.T) {
	procSide := inspect.FDs{PID: 42, FDs: []inspect.FD{
		{FD: 0, Kind: "chr", Path: "/dev/null", Inode: 3},
		{FD: 1, Kind: "pipe", Path: "pipe:[100]", Inode: 100},
		{FD: 3, Kind: "regular", Path: "/tmp/a file (deleted)", Inode: 200},
		{FD: 4, Kind: "socket", Path: "socket:[300]", Inode: 300},
		{FD: 5, Kind: "regular", Path: "/etc/hosts", Inode: 400},
		{FD: 7, Kind: "regular", Path: "/etc/passwd", Inode: 500},
	}}
	walk := &bpfiter.Walk{PID: 42, MaxFDs: 64, FDs: []bpfiter.WalkFD{
		{FD: 0, Name: "null", Ino: 3, Mode: 0o20666, Flags: 2, SMagic: 0x01021994},
		{FD: 1, Name: "", Ino: 100, Mode: 0o10600, Flags: 1, SMagic: 0x50495045},
		{FD: 3, Name: "a file", Ino: 200, Mode: 0o100644, SMagic: 0xef53},
		{FD: 4, Name: "TCP", Ino: 300, Mode: 0o140777, Flags: 2, SMagic: 0x534f434b},
		{FD: 6, Name: "[eventfd]", Ino: 1038, Mode: 0o600, Flags: 2, SMagic: 0x09041934},
		{FD: 7, Name: "group", Ino: 501, Mode: 0o100644, SMagic: 0xef53},
	}}
	out := inspect.MergeFDs(procSide, walk)
	if out.Agree {
		t.Error("agree with fd 5 closed, 6 opened and 7 reused")
	}
	var nums []int
	for _, f := range out.FDs {
		nums = append(nums, f.FD)
	}
	if !slices.Equal(nums, []int{0, 1, 3, 4, 5, 6, 7}) {
		t.Errorf("fds %v, want the union in order", nums)
	}
	var b bytes.Buffer
	if err := FDsKernel(&b, out); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "fds-kernel.txt", b.Bytes())
	var js bytes.Buffer
	if err := JSON(&js, out); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "fds-kernel.json", js.Bytes())
}
