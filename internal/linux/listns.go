package linux

import (
	"encoding/binary"
	"os"

	"golang.org/x/sys/unix"
)

// listnsBatch is how many ids one listns(2) call asks for. The kernel
// takes up to 1,000,000 (EOVERFLOW above); a page of ids per call keeps
// the buffer small and needs one call per 512 namespaces.
const listnsBatch = 512

// Listns returns the ids of every active namespace of the given types
// (CLONE_NEW* bits, 0 for all), in ascending order, by calling listns(2)
// (Linux 6.19, syscall 470 on x86_64 and arm64) until a call returns
// fewer than it asked for; each call starts after the last id the
// previous one returned (struct ns_id_req's ns_id).
//
// Active means held by a task, an open nsfs fd, a bind mount, or as the
// parent or owner of an active namespace. A caller without CAP_SYS_ADMIN
// over a namespace's owner gets no error but only the namespaces it is in
// or privileged over: listns filters, it does not refuse.
func Listns(types uint32) ([]uint64, error) {
	var ids []uint64
	buf := make([]uint64, listnsBatch)
	req := unix.NsIdReq{Size: unix.NS_ID_REQ_SIZE_VER0, Ns_type: types}
	for {
		n, err := unix.Listns(&req, buf, 0)
		if err != nil {
			return ids, os.NewSyscallError("listns", err)
		}
		ids = append(ids, buf[:n]...)
		if n < len(buf) {
			return ids, nil
		}
		req.Ns_id = buf[n-1]
	}
}

// FILEID_NSFS is the handle type of nsfs file handles (include/linux/
// exportfs.h, Linux 6.18); x/sys has FD_NSFS_ROOT but not this.
const FILEID_NSFS = 0xf1

// OpenNSByID opens the namespace whose NS_GET_ID is id, O_RDONLY and
// O_CLOEXEC, through an nsfs file handle (open_by_handle_at(2) on
// FD_NSFS_ROOT): struct nsfs_file_handle {u64 ns_id; u32 ns_type; u32
// ns_inum} with only ns_id set, which the kernel accepts from 6.19 (6.18
// wants all three). It fails when the namespace is not active any more,
// and with EPERM when the caller is not in it and may not see every
// namespace (CAP_SYS_ADMIN in the initial user and pid namespaces).
func OpenNSByID(id uint64) (int, error) {
	var h [16]byte
	binary.NativeEndian.PutUint64(h[:8], id)
	fd, err := unix.OpenByHandleAt(unix.FD_NSFS_ROOT, unix.NewFileHandle(FILEID_NSFS, h[:]), unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return -1, os.NewSyscallError("open_by_handle_at", err)
	}
	return fd, nil
}
