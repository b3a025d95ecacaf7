package namespaces

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Holder keeps one nsfs file descriptor open for each namespace it has
// been given, so that (st_dev, st_ino) stays a valid identity for every
// namespace it holds until Close: a namespace cannot die, and its inode
// cannot pass to another, while an fd refers to it. On kernels without
// NS_GET_ID this is what makes comparing two tasks' namespaces sound; with
// it, holding costs one fd per namespace and changes no verdict.
type Holder struct {
	mu  sync.Mutex
	fds map[Key]int
}

// NewHolder returns an empty Holder.
func NewHolder() *Holder { return &Holder{fds: map[Key]int{}} }

// Hold takes ownership of fd, an open nsfs fd on ns: it keeps the fd when
// ns is new to the holder and closes it otherwise. A nil Holder holds
// nothing.
func (h *Holder) Hold(fd int, ns NS) {
	if h == nil {
		unix.Close(fd)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.fds[ns.Key()]; ok || h.fds == nil {
		unix.Close(fd)
		return
	}
	h.fds[ns.Key()] = fd
}

// FDs lists the fds the holder keeps open, so that a discovery pass of
// the same process can tell them from the holders it reports.
func (h *Holder) FDs() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]int, 0, len(h.fds))
	for _, fd := range h.fds {
		out = append(out, fd)
	}
	return out
}

// Close releases every namespace held. The Holder closes any fd given to
// it afterwards.
func (h *Holder) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fd := range h.fds {
		unix.Close(fd)
	}
	h.fds = nil
}
