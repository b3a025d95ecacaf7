// Package namespaces names the kernel's namespace types and identifies
// namespaces through the nsfs ioctls of ioctl_ns(2).
//
// A namespace is identified by its 64-bit NS_GET_ID, never by its inode
// number alone: inode numbers are reused as soon as a namespace dies (five
// network namespaces made one after another all had inode 4026532178 on our
// machines). The inode is still reported, because that is what ls -l
// /proc/PID/ns and lsns(8) show, and what ParseLink reads back from the
// text of an nsfs link ("net:[4026531840]").
//
// Man pages: namespaces(7), ioctl_ns(2), clone(2), setns(2).
package namespaces
