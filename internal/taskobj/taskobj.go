package taskobj

// Object is one of the kernel objects of a task: the index into a task's
// object ids.
type Object int

// The objects, in the order of the O_* enum in bpf/include/objid.h.
const (
	NSProxy Object = iota // task->nsproxy: a new one on every unshare of a namespace and every setns
	Files                 // task->files (CLONE_FILES)
	FS                    // task->fs (CLONE_FS)
	MM                    // task->mm (CLONE_VM); none for kernel threads
	Sighand               // task->sighand (CLONE_SIGHAND)
	Signal                // task->signal (CLONE_THREAD)
	Cred                  // task->real_cred
	IO                    // task->io_context (CLONE_IO); none until the task does I/O
	SysVSem               // task->sysvsem.undo_list (CLONE_SYSVSEM); none until semop(SEM_UNDO)
	Count                 // the number of objects
)

var names = [Count]struct{ name, field string }{
	{"nsproxy", "task->nsproxy"},
	{"files", "task->files"},
	{"fs", "task->fs"},
	{"mm", "task->mm"},
	{"sighand", "task->sighand"},
	{"signal", "task->signal"},
	{"cred", "task->real_cred"},
	{"io", "task->io_context"},
	{"sysvsem", "task->sysvsem.undo_list"},
}

// Name is the object's short name, as kcmp(2) and the clone flags call
// it where they do: "files"; "vm" is "mm" here, and CLONE_IO's is "io".
func (o Object) Name() string { return names[o].name }

// Field is the task_struct member the id was taken from.
func (o Object) Field() string { return names[o].field }

// All lists every object, in order.
func All() []Object {
	out := make([]Object, Count)
	for i := range out {
		out[i] = Object(i)
	}
	return out
}
