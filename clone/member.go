package clone

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

// Operations of nsi_child.h; the C enum is the reference.
const (
	opHello uint32 = iota + 1
	opClone
	opExit
	opOpen
	opClose
	opChdir
	opUmask
	opSigaction
	opSigdfl
	opMemWrite
	opMemRead
	opMountTmpfs
	opUmount
	opSethostname
	opUname
	opShmCreate
	opShmLookup
	opShmRm
	opMsgCreate
	opMsgLookup
	opMsgRm
	opMqCreate
	opMqLookup
	opMqUnlink
	opSemUndo
	opIoprio
	opExec
	opUnshare
)

// msg and reply mirror struct nsi_msg and struct nsi_reply (128 bytes each).
type msg struct {
	Op  uint32
	Arg int32
	Str [120]byte
}

type reply struct {
	Op  uint32
	Aux int32
	Ret int64
	Str [112]byte
}

// errNoReply means a side did not answer in time: it is blocked (a
// CLONE_VFORK parent) or dead.
var errNoReply = errors.New("no reply")

// side is one parked process of an experiment, driven over two pipes.
type side struct {
	name  string // "parent" or "child"
	cmd   *os.File
	reply *os.File
}

// send writes one request without waiting for its reply.
func (s *side) send(op uint32, arg int32, str string) error {
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

// recv waits up to timeout for one reply.
func (s *side) recv(timeout time.Duration) (reply, error) {
	var r reply
	s.reply.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, binary.Size(r))
	if _, err := io.ReadFull(s.reply, buf); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return r, fmt.Errorf("experiment's %s: %w within %v", s.name, errNoReply, timeout)
		}
		return r, fmt.Errorf("experiment's %s exited (reading its reply: %v)", s.name, err)
	}
	binary.Read(bytes.NewReader(buf), binary.LittleEndian, &r)
	return r, nil
}

// requestTimeout bounds every probe request; a parked process answers in
// microseconds, so only a stuck or dead one takes this long.
const requestTimeout = 5 * time.Second

// do sends a request and returns the value it produced, or the errno the
// kernel gave the process.
func (s *side) do(op uint32, arg int32, str string) (int64, string, error) {
	if err := s.send(op, arg, str); err != nil {
		return 0, "", err
	}
	r, err := s.recv(requestTimeout)
	if err != nil {
		return 0, "", err
	}
	if r.Op != op {
		return 0, "", fmt.Errorf("experiment's %s answered request %d with %d", s.name, op, r.Op)
	}
	if r.Ret < 0 {
		return r.Ret, "", syscall.Errno(-r.Ret)
	}
	return r.Ret, cString(r.Str[:]), nil
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func (s *side) close() {
	s.cmd.Close()
	s.reply.Close()
}
