// Package model is what one discovery pass learned about the host's tasks
// and namespaces, with no I/O: the discover package fills it, and every
// view (ls, ls --tree, nsproxy, graph, kthreads) only reads it, so that
// they agree by construction on what they show.
//
// # What it holds
//
//   - Namespaces, one per namespace found (identified as namespaces.NS is:
//     NS_GET_ID where the kernel has it, the held nsfs inode otherwise),
//     each with how it was found (Source) and what holds it: processes,
//     threads, open fds, nsfs bind mounts, or only the hierarchy (being a
//     parent or owner of a namespace found otherwise).
//   - The parent and owner edges: Parent for pid and user namespaces
//     (NS_GET_PARENT), Owner, the owning user namespace, for every type
//     (NS_GET_USERNS).
//   - Tasks, when the pass was asked for them: every thread of every
//     process, kernel threads included, with its namespace per
//     /proc/PID/task/TID/ns link.
//
// # The rule for user namespaces
//
// A user namespace's owner is its parent: NS_GET_USERNS on a user
// namespace answers the same namespace NS_GET_PARENT does (ioctl_ns(2);
// both return the user_namespace's ->parent). The discovery engine makes
// one climb and sets both fields from it, so for a user namespace Owner ==
// Parent always. Views that draw a hierarchy draw that edge once, as
// "parent"; ls shows it in both columns, as lsns(8) does.
package model
