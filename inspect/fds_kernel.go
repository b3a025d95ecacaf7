package inspect

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/schema"
)

// FDsKernel is `fds --kernel --json`: the fd table as the kernel
// holds it beside what /proc said just before.
type FDsKernel struct {
	SchemaVersion schema.Version `json:"schema_version"`
	PID           int            `json:"pid"`
	Walk          string         `json:"walk"`    // bpfiter.WalkPath
	MaxFDs        int            `json:"max_fds"` // fdt->max_fds
	Agree         bool           `json:"agree"`   // no fd has a disagreement
	FDs           []KernelFD     `json:"fds"`     // by fd number
}

// KernelFD is one fd number open in either view.
type KernelFD struct {
	FD       int      `json:"fd"`
	Kernel   *WalkFD  `json:"kernel"` // null: the slot was empty when walked
	Proc     *ProcFD  `json:"proc"`   // null: not in /proc/PID/fd when read
	Disagree []string `json:"disagree,omitempty"`
}

// WalkFD is what the walk read from struct file and its inode.
type WalkFD struct {
	Name   string `json:"d_name"` // f_path.dentry->d_name.name, at most 63 bytes
	Ino    uint64 `json:"i_ino"`
	Mode   string `json:"i_mode"` // octal, with the file type bits
	Type   string `json:"type"`   // from i_mode: reg, dir, chr, blk, fifo, sock, lnk, or anon (no type bits)
	Flags  string `json:"f_flags"`
	FS     string `json:"fs"`      // the superblock's filesystem, from s_magic
	SMagic string `json:"s_magic"` // hex
}

// ProcFD is what /proc/PID/fd/N and its fdinfo said.
type ProcFD struct {
	Link  string `json:"readlink"`
	Inode uint64 `json:"inode"`
	Kind  string `json:"kind"`
}

// ReadFDsKernel reads the fd table from /proc, then walks it in kernel
// memory. p's pidfd keeps the PID from being reused, and p must still
// live after the walk, so both read the same process.
func ReadFDsKernel(p *procinfo.Proc) (FDsKernel, error) {
	if p.IsThread() {
		return FDsKernel{}, BadInputf("fds --kernel walks a process's fd table (task->files of its leader): give PID, not PID:TID")
	}
	if err := bpfiter.Probe(); err != nil {
		return FDsKernel{}, KernelError(err)
	}
	procSide, err := ReadFDs(p)
	if err != nil {
		return FDsKernel{}, err
	}
	walk, err := bpfiter.WalkFDs(p.PID)
	if aerr := p.Alive(); aerr != nil {
		return FDsKernel{}, ReadError(p, "fd table", aerr)
	}
	if err != nil {
		return FDsKernel{}, KernelError(err)
	}
	return MergeFDs(procSide, walk), nil
}

// MergeFDs pairs the two views by fd number and says where they differ.
func MergeFDs(procSide FDs, walk *bpfiter.Walk) FDsKernel {
	out := FDsKernel{PID: walk.PID, Walk: bpfiter.WalkPath, MaxFDs: walk.MaxFDs, Agree: true, FDs: []KernelFD{}}
	byFD := map[int]*ProcFD{}
	for _, f := range procSide.FDs {
		byFD[f.FD] = &ProcFD{Link: f.Path, Inode: f.Inode, Kind: f.Kind}
	}
	for _, k := range walk.FDs {
		out.FDs = append(out.FDs, KernelFD{FD: k.FD, Kernel: walkFD(k), Proc: byFD[k.FD]})
		delete(byFD, k.FD)
	}
	for fd, pr := range byFD {
		out.FDs = append(out.FDs, KernelFD{FD: fd, Proc: pr})
	}
	slices.SortFunc(out.FDs, func(a, b KernelFD) int { return cmp.Compare(a.FD, b.FD) })
	for i := range out.FDs {
		f := &out.FDs[i]
		f.Disagree = disagreements(f.Kernel, f.Proc)
		out.Agree = out.Agree && len(f.Disagree) == 0
	}
	return out
}

func walkFD(k bpfiter.WalkFD) *WalkFD {
	return &WalkFD{
		Name: k.Name, Ino: k.Ino, Mode: "0" + strconv.FormatUint(uint64(k.Mode), 8), Type: modeType(k.Mode),
		Flags: strings.Join(procinfo.OpenFlagNames(k.Flags), "|"),
		FS:    fsName(k.SMagic), SMagic: "0x" + strconv.FormatUint(k.SMagic, 16),
	}
}

// disagreements says how the kernel's slot and /proc's fd differ: open
// in one only, another inode (then the names are of two files and not
// compared), or another name. Only a
// link that is a path names the dentry: pipes, sockets, anonymous inodes
// and namespaces get their /proc name from their filesystem's d_dname,
// made up when readlink asks, so their d_name is not compared.
func disagreements(k *WalkFD, p *ProcFD) []string {
	switch {
	case k == nil && p == nil:
		return nil
	case k == nil:
		return []string{"closed between the /proc read and the kernel walk"}
	case p == nil:
		return []string{"opened between the /proc read and the kernel walk"}
	}
	if p.Inode != 0 && p.Inode != k.Ino {
		return []string{fmt.Sprintf("inode differs (/proc %d, kernel %d): the fd was closed and reused between the reads", p.Inode, k.Ino)}
	}
	if strings.HasPrefix(p.Link, "/") && !sameName(k.Name, p.Link) {
		return []string{fmt.Sprintf("d_name %q is not the last component of %q (renamed between the reads, or a file bind-mounted under another name)", k.Name, p.Link)}
	}
	return nil
}

// sameName reports whether dentry name is the last component of link, a
// path /proc printed (" (deleted)" after an unlinked file's). The walk
// keeps 63 bytes of a name.
func sameName(name, link string) bool {
	base := path.Base(strings.TrimSuffix(link, " (deleted)"))
	if len(name) == 63 {
		return strings.HasPrefix(base, name)
	}
	return base == name
}

// modeType names the file type bits of i_mode; an anonymous inode has
// none.
func modeType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "reg"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFCHR:
		return "chr"
	case unix.S_IFBLK:
		return "blk"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "sock"
	case unix.S_IFLNK:
		return "lnk"
	case 0:
		return "anon"
	}
	return "0" + strconv.FormatUint(uint64(mode&unix.S_IFMT), 8)
}

// fsMagic names the superblock magics (include/uapi/linux/magic.h) an fd
// table usually holds. An array of constants is laid out by the linker,
// where a map would be built at every start of nsinspect.
var fsMagic = [...]struct {
	magic uint64
	name  string
}{
	{unix.EXT4_SUPER_MAGIC, "ext4"}, {unix.XFS_SUPER_MAGIC, "xfs"}, {unix.BTRFS_SUPER_MAGIC, "btrfs"},
	{unix.TMPFS_MAGIC, "tmpfs"}, {unix.OVERLAYFS_SUPER_MAGIC, "overlay"}, {unix.PROC_SUPER_MAGIC, "proc"},
	{unix.SYSFS_MAGIC, "sysfs"}, {unix.CGROUP_SUPER_MAGIC, "cgroup"}, {unix.CGROUP2_SUPER_MAGIC, "cgroup2"},
	{unix.DEVPTS_SUPER_MAGIC, "devpts"}, {unix.PIPEFS_MAGIC, "pipefs"}, {unix.SOCKFS_MAGIC, "sockfs"},
	{unix.ANON_INODE_FS_MAGIC, "anon_inodefs"}, {unix.NSFS_MAGIC, "nsfs"}, {unix.PID_FS_MAGIC, "pidfs"},
	{unix.BPF_FS_MAGIC, "bpf"}, {unix.DEBUGFS_MAGIC, "debugfs"}, {unix.TRACEFS_MAGIC, "tracefs"},
	{unix.FUSE_SUPER_MAGIC, "fuse"}, {unix.NFS_SUPER_MAGIC, "nfs"}, {unix.SQUASHFS_MAGIC, "squashfs"},
	{unix.HUGETLBFS_MAGIC, "hugetlbfs"}, {unix.RAMFS_MAGIC, "ramfs"}, {unix.SECURITYFS_MAGIC, "securityfs"},
	{unix.DMA_BUF_MAGIC, "dmabuf"}, {unix.SECRETMEM_MAGIC, "secretmem"},
}

func fsName(magic uint64) string {
	for _, m := range fsMagic {
		if m.magic == magic {
			return m.name
		}
	}
	return "0x" + strconv.FormatUint(magic, 16)
}
