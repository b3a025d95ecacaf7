package bpfiter

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"

	"github.com/nsinspect/nsinspect/bpfload"
	"github.com/nsinspect/nsinspect/features"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/namespaces"
)

// ErrUnavailable wraps every reason the iterators cannot run here: no
// privilege, no BTF, lockdown, a kernel older than 5.8. Callers that can
// fall back to /proc test for it with errors.Is.
var ErrUnavailable = errors.New("BPF iterators unavailable")

type unavailable struct {
	why string
	err error
}

func (u *unavailable) Error() string {
	switch {
	case u.err == nil:
		return u.why
	case u.why == "":
		return u.err.Error()
	}
	return u.why + ": " + u.err.Error()
}
func (u *unavailable) Unwrap() []error { return []error{ErrUnavailable, u.err} }

// NSRef names a namespace as a task or fd points to it: by inode number
// and, on kernels whose struct ns_common has one (6.18+), by id.
type NSRef struct {
	Ino uint64
	ID  uint64
}

// Task is one task as iter/task saw it. PIDs are numbers in the pid
// namespace of the process that ran the iterator; 0 for a parent outside
// it.
type Task struct {
	TGID, TID, PPID int
	Comm            string
	Flags           uint32 // task->flags
	State           byte   // as /proc/PID/stat shows it: R, S, D, Z, I, ...
	UID, EUID, SUID uint32
	FSUID           uint32
	GID, EGID       uint32
	// NS per namespaces.Links entry; Ino 0 where the task has none (a
	// zombie has released its nsproxy; only pid and user remain). Its
	// pid_for_children is there also after unshare(CLONE_NEWPID) and
	// before the new namespace's first task, where /proc shows none
	// (Snapshot.Unborn says which).
	NS [NLinks]NSRef
	// Obj are opaque per-snapshot ids of the task's kernel objects, equal
	// exactly when the pointers are equal; 0 for a NULL pointer (no mm, no
	// io_context yet, no SysV undo list).
	Obj [taskobj.Count]uint64
	// StartBoottime is task->start_boottime, ns after boot: what
	// /proc/PID/stat shows as starttime, in clock ticks and shifted by
	// the reader's time namespace. It tells a task from a later one with
	// its PID.
	StartBoottime uint64
}

// NLinks is len(namespaces.Links), the namespace slots of a task record.
const NLinks = 10

// Kernel reports PF_KTHREAD.
func (t *Task) Kernel() bool { return t.Flags&0x00200000 != 0 }

// Namespace is one namespace the iterators met, with its owner and (for
// pid and user namespaces) parent by inode, 0 for none.
type Namespace struct {
	Type          namespaces.Type
	Ino, ID       uint64
	Owner, Parent uint64
	Level         int
}

// FD is one open nsfs file of some task's fd table: a namespace held by a
// file descriptor.
type FD struct {
	PID, TID, FD int
	Type         namespaces.Type
	NS           NSRef
}

// Snapshot is what one run of the iterators saw.
type Snapshot struct {
	Tasks      []Task
	Namespaces map[uint64]*Namespace // by inode
	FDs        []FD                  // only with files
	// Sockets are the sockets made in a network namespace other than
	// their fd table's task's (FD is the socket's fd, NS that namespace);
	// only with files.
	Sockets []FD
	// Unborn are the tasks whose pid_for_children has no init yet (the
	// task's NS has it too; FD is 0).
	Unborn []FD
}

// Iterators holds the loaded task and task_file iterators. Nothing is
// pinned in bpffs: the programs and maps live in this process's fds and go
// away with it, even on SIGKILL.
type Iterators struct {
	objs tasksObjects
}

// Load loads the iterators into the kernel, under a fresh random hash key.
// Errors that mean "not here" wrap ErrUnavailable and say why.
func Load() (*Iterators, error) {
	spec, err := bpfload.Object(tasksObject)
	if err != nil {
		return nil, fmt.Errorf("reading the embedded BPF object: %w", err)
	}
	var key [2]uint64
	if _, err := rand.Read(unsafe.Slice((*byte)(unsafe.Pointer(&key)), 16)); err != nil {
		return nil, fmt.Errorf("drawing the object-id key: %w", err)
	}
	if err := spec.Variables["hash_key"].Set(key); err != nil {
		return nil, fmt.Errorf("setting the object-id key: %w", err)
	}
	it := &Iterators{}
	if err := loadSpec(spec, &it.objs); err != nil {
		return nil, err
	}
	return it, nil
}

// loadSpec loads spec into objs, turning the ways it fails on a kernel or
// for a user that cannot run it into ErrUnavailable with the reason.
func loadSpec(spec *ebpf.CollectionSpec, objs any) error {
	if err := Probe(); err != nil {
		return err
	}
	// Only where the kernel charges BPF memory to it (before 5.11), and
	// only while loading.
	restore, err := bpfload.RaiseMemlock()
	if err != nil {
		return &unavailable{"BPF memory is charged to RLIMIT_MEMLOCK on this kernel (before Linux 5.11), which could not be raised", err}
	}
	defer restore()

	// One decoding of the kernel's BTF (5 MB on 6.18) serves both CO-RE
	// and finding the iterator's attach target, and only vmlinux is
	// searched: by default cilium/ebpf decodes vmlinux once per use and
	// the BTF of every loaded module too, though every type read here is
	// in vmlinux. That was more than half of the load time.
	cache := btf.NewCache()
	kernel, err := cache.Kernel()
	if err != nil {
		return &unavailable{bpfload.NoBTF, err}
	}
	// Task iterators (5.8) exist where the kernel's BTF has their context
	// types, asked of the BTF just decoded: features' own probe scans the
	// 5 MB file again, which cost every BPF pass a fifth of its CPU time.
	for _, ctx := range []string{"bpf_iter__task", "bpf_iter__task_file"} {
		if _, err := kernel.AnyTypeByName(ctx); errors.Is(err, btf.ErrNotFound) {
			return &unavailable{"", noIterators(ctx)}
		}
	}
	err = spec.LoadAndAssign(objs, &ebpf.CollectionOptions{Cache: cache, Programs: ebpf.ProgramOptions{KernelTypes: kernel}})
	if err == nil {
		return nil
	}
	// A rejection by the verifier comes as EACCES or EPERM too, but with
	// the verifier's log: that is nsinspect's bug, not the user's
	// privilege.
	var ve *ebpf.VerifierError
	switch {
	case errors.As(err, &ve):
		return fmt.Errorf("the kernel's verifier rejected nsinspect's iterator on Linux %s (a bug, please report it with `nsinspect features`): %w", bpfload.Release(), err)
	case errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES):
		return &unavailable{"the kernel refused to load BPF" + bpfload.LockdownHint(), err}
	case errors.Is(err, btf.ErrNotFound):
		return &unavailable{bpfload.NoBTF, nil}
	}
	return fmt.Errorf("loading the BPF iterators: %w", err)
}

// noIterators says that the kernel has no task iterators, as features
// names the interface, or from ctx, the BTF type found missing, where
// features' probe could not decide.
func noIterators(ctx string) error {
	if err := features.Missing(features.BPFIterators, "reading task_struct with BPF"); err != nil {
		return err
	}
	return fmt.Errorf("the kernel's BTF has no %s: BPF task iterators (Linux 5.8) are missing", ctx)
}

// Probe tells, without loading anything, why the iterators cannot run
// here, or nil when they may: the privilege to load tracing programs
// (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN), kernel BTF, and a lockdown
// that allows reading kernel memory. Whether the kernel has task
// iterators (5.8) is asked at the load, of the BTF it decodes anyway.
func Probe() error {
	if features.Pretended(features.BPFIterators) {
		return &unavailable{"", noIterators("bpf_iter__task")}
	}
	if !bpfload.HasCaps() {
		return &unavailable{"loading BPF iterators needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN (run as root)", nil}
	}
	if why := bpfload.Refusal(); why != "" {
		return &unavailable{why, nil}
	}
	return nil
}

// Close unloads the iterators.
func (it *Iterators) Close() error { return it.objs.Close() }

// Snapshot runs iter/task and, withFiles, iter/task_file, and decodes what
// they wrote.
func (it *Iterators) Snapshot(withFiles bool) (*Snapshot, error) {
	for _, m := range []*ebpf.Map{it.objs.Seen, it.objs.FileSeen} {
		if err := clearSeen(m); err != nil {
			return nil, err
		}
	}
	// The two iterators run at once: most of their time is the kernel's
	// walk of the task list and fd tables, not the programs, and they
	// share no map (each has its own seen map and chain).
	var files []byte
	var ferr error
	done := make(chan struct{})
	if withFiles {
		go func() {
			defer close(done)
			files, ferr = run(it.objs.NsiFiles)
		}()
	} else {
		close(done)
	}
	buf, err := run(it.objs.NsiTasks)
	<-done
	if err != nil {
		return nil, fmt.Errorf("running iter/task: %w", err)
	}
	if ferr != nil {
		return nil, fmt.Errorf("running iter/task_file: %w", ferr)
	}
	s := &Snapshot{Namespaces: make(map[uint64]*Namespace, 256)}
	if err := s.decode(buf); err != nil {
		return nil, err
	}
	if err := s.decode(files); err != nil {
		return nil, err
	}
	s.label()
	if !features.Has(features.NSGetID) {
		s.dropIDs()
	}
	return s, nil
}

// clearSeen empties a per-pass "namespace written" map. Its keys are
// inode numbers and its values seq_nums, not addresses.
func clearSeen(m *ebpf.Map) error {
	var k uint32
	var keys []uint32
	iter := m.Iterate()
	var v uint64
	for iter.Next(&k, &v) {
		keys = append(keys, k)
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("reading the seen map: %w", err)
	}
	if len(keys) > 0 {
		if _, err := m.BatchDelete(keys, nil); err != nil {
			for _, k := range keys {
				_ = m.Delete(k)
			}
		}
	}
	return nil
}

// run attaches prog as an iterator, reads it to the end and detaches it.
func run(prog *ebpf.Program) ([]byte, error) {
	l, err := link.AttachIter(link.IterOptions{Program: prog})
	if err != nil {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTSUP) {
			return nil, &unavailable{"the kernel cannot attach this BPF iterator (iterators need Linux 5.8+)", err}
		}
		return nil, err
	}
	defer l.Close()
	rd, err := l.Open()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	// Records are decoded in place, so the buffer must be 8-aligned,
	// which a []uint64 is.
	words := make([]uint64, 0, 128<<10) // 1 MiB: 4,000 tasks

	buf := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words[:cap(words)]))), cap(words)*8)
	n := 0
	for {
		if n == len(buf) {
			words = make([]uint64, 2*len(buf)/8)
			nb := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), len(words)*8)
			copy(nb, buf[:n])
			buf = nb
		}
		m, err := rd.Read(buf[n:])
		n += m
		if err == io.EOF || (err == nil && m == 0) {
			return buf[:n], nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// dropIDs forgets the namespace ids where user space has no NS_GET_ID
// (before 6.18, or NSINSPECT_PRETEND_MISSING=NS_GET_ID in tests). The id
// in struct ns_common is the one NS_GET_ID answers, so a kernel with one
// has the other, but namespaces.NS is keyed by id only when both sides of
// a comparison have it: a BPF id beside an fd-opened namespace without one
// would make the same namespace two keys.
func (s *Snapshot) dropIDs() {
	for i := range s.Tasks {
		for j := range s.Tasks[i].NS {
			s.Tasks[i].NS[j].ID = 0
		}
	}
	for _, n := range s.Namespaces {
		n.ID = 0
	}
	for _, fds := range [][]FD{s.FDs, s.Sockets, s.Unborn} {
		for i := range fds {
			fds[i].NS.ID = 0
		}
	}
}
