// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nsi_fdwalk: the course notes' gdb walk, done live. For the one task
 * named in cfg (a thread-group leader, by its number in the reading
 * process's pid namespace) it reads
 *
 *     task->files->fdt->fd[i]->f_path.dentry->d_name.name
 *
 * from kernel memory for NSI_FDWALK_MAX slots from cfg.start on, and
 * writes a struct nsi_walk per open slot and a struct nsi_walkend saying
 * where to go on. One run's output must fit the iterator's seq_file
 * buffer, which is why the walk goes in runs; the loader repeats it until
 * next reaches max_fds. Only names, inode numbers, flags and the
 * superblock magic are written, never a pointer.
 */
#include "common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Keep the record types in the BTF that bpf2go reads for -type. */
const struct nsi_walk *_nsi_walk __attribute__((unused));
const struct nsi_walkend *_nsi_walkend __attribute__((unused));

ONE_ELEM_MAP(BPF_MAP_TYPE_ARRAY, struct nsi_walkcfg) cfg SEC(".maps");

SEC("iter/task")
int nsi_fdwalk(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *t = ctx->task;
	struct nsi_walkend end = {.kind = NSI_REC_WALKEND};
	struct nsi_walkcfg *c;
	struct fdtable *fdt;
	struct file **fds;
	struct reader rd;
	u32 zero = 0, tid;

	if (!t)
		return 0;
	c = bpf_map_lookup_elem(&cfg, &zero);
	if (!c)
		return 0;
	reader_init(&rd);
	tid = tid_in(&rd, t);
	if (tid != c->tgid || tgid_in(&rd, t) != tid)
		return 0;
	end.tgid = tid;
	fdt = BPF_CORE_READ(t, files, fdt);
	if (!fdt) {
		/* An exiting task has dropped its files. */
		bpf_seq_write(seq, &end, sizeof(end));
		return 0;
	}
	end.max_fds = BPF_CORE_READ(fdt, max_fds);
	fds = BPF_CORE_READ(fdt, fd);
	end.next = c->start;
	for (int i = 0; i < NSI_FDWALK_MAX; i++) {
		struct nsi_walk w = {.kind = NSI_REC_WALK};
		struct file *f = 0;
		struct dentry *d;
		struct inode *ino;
		u32 fd = c->start + i;

		if (fd >= end.max_fds)
			break;
		end.next = fd + 1;
		bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
		if (!f)
			continue;
		w.fd = fd;
		w.f_flags = BPF_CORE_READ(f, f_flags);
		d = BPF_CORE_READ(f, f_path.dentry);
		bpf_probe_read_kernel_str(w.name, sizeof(w.name), BPF_CORE_READ(d, d_name.name));
		ino = BPF_CORE_READ(f, f_inode);
		w.i_ino = BPF_CORE_READ(ino, i_ino);
		w.i_mode = BPF_CORE_READ(ino, i_mode);
		w.s_magic = BPF_CORE_READ(ino, i_sb, s_magic);
		bpf_seq_write(seq, &w, sizeof(w));
	}
	bpf_seq_write(seq, &end, sizeof(end));
	return 0;
}
