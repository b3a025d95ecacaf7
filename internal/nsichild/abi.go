//go:build cgo

package nsichild

/*
#include "nsi_child.h"
*/
import "C"

import "unsafe"

// The protocol in protocol.go, checked against nsi_child.h at compile
// time: each index below is the difference of two constants (the header's
// and ours), and indexing [1]struct{}{} with anything but 0 does not
// compile: 1 or more is out of range, and a negative difference overflows
// the unsigned type or is a negative index. A change to the header that
// the Go side does not follow breaks the build, not an experiment.
var (
	_ = [1]struct{}{}[C.NSI_OP_HELLO-OpHello]
	_ = [1]struct{}{}[C.NSI_OP_CLONE-OpClone]
	_ = [1]struct{}{}[C.NSI_OP_EXIT-OpExit]
	_ = [1]struct{}{}[C.NSI_OP_OPEN-OpOpen]
	_ = [1]struct{}{}[C.NSI_OP_CLOSE-OpClose]
	_ = [1]struct{}{}[C.NSI_OP_CHDIR-OpChdir]
	_ = [1]struct{}{}[C.NSI_OP_UMASK-OpUmask]
	_ = [1]struct{}{}[C.NSI_OP_SIGACTION-OpSigaction]
	_ = [1]struct{}{}[C.NSI_OP_SIGDFL-OpSigdfl]
	_ = [1]struct{}{}[C.NSI_OP_MEM_WRITE-OpMemWrite]
	_ = [1]struct{}{}[C.NSI_OP_MEM_READ-OpMemRead]
	_ = [1]struct{}{}[C.NSI_OP_MOUNT_TMPFS-OpMountTmpfs]
	_ = [1]struct{}{}[C.NSI_OP_UMOUNT-OpUmount]
	_ = [1]struct{}{}[C.NSI_OP_SETHOSTNAME-OpSethostname]
	_ = [1]struct{}{}[C.NSI_OP_UNAME-OpUname]
	_ = [1]struct{}{}[C.NSI_OP_SHM_CREATE-OpShmCreate]
	_ = [1]struct{}{}[C.NSI_OP_SHM_LOOKUP-OpShmLookup]
	_ = [1]struct{}{}[C.NSI_OP_SHM_RM-OpShmRm]
	_ = [1]struct{}{}[C.NSI_OP_MSG_CREATE-OpMsgCreate]
	_ = [1]struct{}{}[C.NSI_OP_MSG_LOOKUP-OpMsgLookup]
	_ = [1]struct{}{}[C.NSI_OP_MSG_RM-OpMsgRm]
	_ = [1]struct{}{}[C.NSI_OP_MQ_CREATE-OpMqCreate]
	_ = [1]struct{}{}[C.NSI_OP_MQ_LOOKUP-OpMqLookup]
	_ = [1]struct{}{}[C.NSI_OP_MQ_UNLINK-OpMqUnlink]
	_ = [1]struct{}{}[C.NSI_OP_SEM_UNDO-OpSemUndo]
	_ = [1]struct{}{}[C.NSI_OP_IOPRIO-OpIoprio]
	_ = [1]struct{}{}[C.NSI_OP_EXEC-OpExec]
	_ = [1]struct{}{}[C.NSI_OP_UNSHARE-OpUnshare]

	// struct nsi_msg and struct nsi_reply: size, each field's offset and
	// the string's length. encoding/binary writes the Go structs packed,
	// so equal offsets also mean the C compiler added no padding.
	_ = [1]struct{}{}[unsafe.Sizeof(msg{})-C.sizeof_struct_nsi_msg]
	_ = [1]struct{}{}[unsafe.Offsetof(msg{}.Arg)-unsafe.Offsetof(C.struct_nsi_msg{}.arg)]
	_ = [1]struct{}{}[unsafe.Offsetof(msg{}.Str)-unsafe.Offsetof(C.struct_nsi_msg{}.str)]
	_ = [1]struct{}{}[len(msg{}.Str)-len(C.struct_nsi_msg{}.str)]

	_ = [1]struct{}{}[C.NSI_Z_HELLO-zHello]
	_ = [1]struct{}{}[C.NSI_Z_SPAWN-zSpawn]
	_ = [1]struct{}{}[C.NSI_Z_REAP-zReap]
	_ = [1]struct{}{}[unsafe.Sizeof(zmsg{})-C.sizeof_struct_nsi_zmsg]
	_ = [1]struct{}{}[unsafe.Offsetof(zmsg{}.Ret)-unsafe.Offsetof(C.struct_nsi_zmsg{}.ret)]
	_ = [1]struct{}{}[unsafe.Offsetof(zmsg{}.Flags)-unsafe.Offsetof(C.struct_nsi_zmsg{}.flags)]
	_ = [1]struct{}{}[unsafe.Offsetof(zmsg{}.ExitSignal)-unsafe.Offsetof(C.struct_nsi_zmsg{}.exit_signal)]
	_ = [1]struct{}{}[unsafe.Offsetof(zmsg{}.ProbeWord)-unsafe.Offsetof(C.struct_nsi_zmsg{}.probe_word)]
	_ = [1]struct{}{}[unsafe.Offsetof(zmsg{}.Str)-unsafe.Offsetof(C.struct_nsi_zmsg{}.str)]
	_ = [1]struct{}{}[len(zmsg{}.Str)-len(C.struct_nsi_zmsg{}.str)]

	_ = [1]struct{}{}[unsafe.Sizeof(reply{})-C.sizeof_struct_nsi_reply]
	_ = [1]struct{}{}[unsafe.Offsetof(reply{}.Aux)-unsafe.Offsetof(C.struct_nsi_reply{}.aux)]
	_ = [1]struct{}{}[unsafe.Offsetof(reply{}.Ret)-unsafe.Offsetof(C.struct_nsi_reply{}.ret)]
	_ = [1]struct{}{}[unsafe.Offsetof(reply{}.Str)-unsafe.Offsetof(C.struct_nsi_reply{}.str)]
	_ = [1]struct{}{}[len(reply{}.Str)-len(C.struct_nsi_reply{}.str)]
)
