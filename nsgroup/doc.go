// Package nsgroup groups tasks by the set of namespaces they are in, the
// set the kernel keeps in struct nsproxy.
//
// The kernel keeps a task's uts, ipc, mnt, net, cgroup and time
// namespaces, and the pid and time namespaces its children will get, in
// one struct nsproxy (include/linux/nsproxy.h), shared by every task whose
// set is the same; the user namespace hangs off the task's cred and its pid
// namespace off its struct pid. Userspace cannot see the nsproxy pointer:
// it sees the set, one namespace per /proc/PID/ns link (namespaces(7)),
// identified by NS_GET_ID. ByNSProxy groups by that set, which is exactly
// the set of tasks that can share one nsproxy.
//
// The BPF source does see the pointer (as an opaque per-run id, see
// bpfiter), and then ByNSProxy also lists the true instances: one set
// can have several, because setns(2) always gives the caller a new
// nsproxy, even into the namespaces it is already in.
//
// It is a view: it reads the tasks of one discovery pass (model.Task, from
// discover with Options.Tasks) and does no I/O.
package nsgroup
