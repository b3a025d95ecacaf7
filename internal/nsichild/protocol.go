package nsichild

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// Op is a request a parked process performs (enum nsi_op).
type Op uint32

// The requests of nsi_child.h, in its order; abi.go checks every value.
const (
	OpHello       Op = iota + 1 // the reply a process sends once it is ready
	OpClone                     // parent only: make the experiment's clone call
	OpExit                      // end the process (no reply)
	OpOpen                      // str: path; ret: fd
	OpClose                     // arg: fd
	OpChdir                     // str: path
	OpUmask                     // arg: mask; ret: the old mask
	OpSigaction                 // arg: signal; install a handler
	OpSigdfl                    // arg: signal; back to SIG_DFL
	OpMemWrite                  // arg: the value to store in nsi_probe_word
	OpMemRead                   // ret: nsi_probe_word
	OpMountTmpfs                // str: target
	OpUmount                    // str: target
	OpSethostname               // str: name
	OpUname                     // str: the nodename
	OpShmCreate                 // arg: key; ret: id
	OpShmLookup                 // arg: key; ret: id
	OpShmRm                     // arg: id
	OpMsgCreate                 // arg: key; ret: id
	OpMsgLookup                 // arg: key
	OpMsgRm                     // arg: id
	OpMqCreate                  // str: name without '/'
	OpMqLookup                  // str: name
	OpMqUnlink                  // str: name
	OpSemUndo                   // allocate the SysV undo list (semop SEM_UNDO)
	OpIoprio                    // allocate the io_context (ioprio_set)
	OpExec                      // str: program; execve(str, {str, "infinity"}, {}); only a failure replies
	OpUnshare                   // arg: flags for unshare(2)
)

// msg and reply are struct nsi_msg and struct nsi_reply, 128 bytes each
// (below PIPE_BUF, so every write is atomic); abi.go checks the layout.
type msg struct {
	Op  Op
	Arg int32
	Str [120]byte
}

type reply struct {
	Op  Op
	Aux int32
	Ret int64
	Str [112]byte
}

// Reply is one answer of a parked process.
type Reply struct {
	Op  Op
	Aux int32 // OpClone: the pidfd CLONE_PIDFD returned in the parent
	Ret int64 // >= 0: the value; < 0: -errno
	Str string
}

// ErrNoReply means a side did not answer in time: it is blocked (a
// CLONE_VFORK parent) or dead.
var ErrNoReply = errors.New("no reply")

// RequestTimeout bounds every request; a parked process answers in
// microseconds, so only a stuck or dead one takes this long.
const RequestTimeout = 5 * time.Second

// Side is nsinspect's end of one parked process: the write end of its
// command pipe and the read end of its reply pipe.
type Side struct {
	name  string // "parent" or "child", for messages
	cmd   *os.File
	reply *os.File
}

// NewSide makes the two pipes of one side. It returns the ends the C
// process keeps (its command read end, its reply write end), which the
// caller passes to Spawn and closes afterwards.
func NewSide(name string) (*Side, [2]*os.File, error) {
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, [2]*os.File{}, fmt.Errorf("pipe for the experiment's %s: %w", name, err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		return nil, [2]*os.File{}, fmt.Errorf("pipe for the experiment's %s: %w", name, err)
	}
	return &Side{name: name, cmd: cmdW, reply: repR}, [2]*os.File{cmdR, repW}, nil
}

// Send writes one request without waiting for its reply.
func (s *Side) Send(op Op, arg int32, str string) error {
	m := msg{Op: op, Arg: arg}
	if len(str) >= len(m.Str) {
		return fmt.Errorf("%s: request string %q too long", s.name, str)
	}
	copy(m.Str[:], str)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, &m)
	if _, err := s.cmd.Write(b.Bytes()); err != nil {
		return fmt.Errorf("sending a request to the experiment's %s: %w", s.name, err)
	}
	return nil
}

// Recv waits up to timeout for one reply.
func (s *Side) Recv(timeout time.Duration) (Reply, error) {
	var r reply
	s.reply.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, binary.Size(r))
	if _, err := io.ReadFull(s.reply, buf); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return Reply{}, fmt.Errorf("experiment's %s: %w within %v", s.name, ErrNoReply, timeout)
		}
		return Reply{}, fmt.Errorf("experiment's %s exited (reading its reply: %v)", s.name, err)
	}
	binary.Read(bytes.NewReader(buf), binary.LittleEndian, &r)
	return Reply{Op: r.Op, Aux: r.Aux, Ret: r.Ret, Str: cString(r.Str[:])}, nil
}

// Do sends a request and returns the value it produced, or the errno the
// kernel gave the process.
func (s *Side) Do(op Op, arg int32, str string) (int64, string, error) {
	if err := s.Send(op, arg, str); err != nil {
		return 0, "", err
	}
	r, err := s.Recv(RequestTimeout)
	if err != nil {
		return 0, "", err
	}
	if r.Op != op {
		return 0, "", fmt.Errorf("experiment's %s answered request %d with %d", s.name, op, r.Op)
	}
	if r.Ret < 0 {
		return r.Ret, "", syscall.Errno(-r.Ret)
	}
	return r.Ret, r.Str, nil
}

// Close closes nsinspect's two ends; a process still parked reads EOF and
// exits.
func (s *Side) Close() {
	s.cmd.Close()
	s.reply.Close()
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Experiment is what the parent's clone call will be (struct
// nsi_experiment).
type Experiment struct {
	Flags      uint64 // clone flags, CSIGNAL bits excluded
	ExitSignal int    // clone: or'ed into the flags; clone3: exit_signal
	Clone3     bool
	CgroupFD   int // CLONE_INTO_CGROUP's target, -1 for none
}

// ErrNoCgo is what Spawn returns in a build without cgo: the experiment's
// parent and child are nsi_child.c.
var ErrNoCgo = errors.New("this nsinspect was built without cgo (CGO_ENABLED=0), and clone experiments need the C child in internal/nsichild/nsi_child.c: rebuild with CGO_ENABLED=1")
