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

/* One run's records, one buffer per CPU. */
struct walk_buf {
	struct nsi_walk w[NSI_FDWALK_MAX];
};
ONE_ELEM_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, struct walk_buf) bufs SEC(".maps");

/*
 * read_slot reads slot fd of the fd array at fdsptr into record n of this
 * CPU's buffer and says whether it holds a file. A global function, so
 * that the verifier checks it once instead of once per iteration of the
 * loop below (32,784 instructions walked on 6.18 with the slot's reads
 * inside the loop of the program); global functions take scalars only
 * before Linux 5.12.
 */
__noinline int read_slot(u64 fdsptr, u32 fd, u32 n)
{
	struct file **fds = (struct file **)fdsptr;
	struct walk_buf *b;
	struct nsi_walk *w;
	struct file *f = 0;
	struct dentry *d;
	struct inode *ino;
	u32 zero = 0;

	b = bpf_map_lookup_elem(&bufs, &zero);
	if (!b || !fds || n >= NSI_FDWALK_MAX)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	/* NSI_FDWALK_MAX is a power of two: a mask the verifier sees (the
	 * empty asm keeps clang from dropping it as redundant). */
	asm volatile("" : "+r"(n));
	w = &b->w[n & (NSI_FDWALK_MAX - 1)];
	__builtin_memset(w, 0, sizeof(*w));
	w->kind = NSI_REC_WALK;
	w->fd = fd;
	w->f_flags = BPF_CORE_READ(f, f_flags);
	d = BPF_CORE_READ(f, f_path.dentry);
	bpf_probe_read_kernel_str(w->name, sizeof(w->name), BPF_CORE_READ(d, d_name.name));
	ino = BPF_CORE_READ(f, f_inode);
	w->i_ino = BPF_CORE_READ(ino, i_ino);
	w->i_mode = BPF_CORE_READ(ino, i_mode);
	w->s_magic = BPF_CORE_READ(ino, i_sb, s_magic);
	return 1;
}

/* read_run reads the slots from start on, at most NSI_FDWALK_MAX and
 * none from max on, into this CPU's buffer and returns how many records
 * it wrote. Global too: the loop is then a call and a count per
 * iteration. */
__noinline u64 read_run(u64 fdsptr, u32 start, u32 max)
{
	u64 n = 0;
	u32 fd = start;

	for (int i = 0; i < NSI_FDWALK_MAX && fd < max; i++, fd++)
		n += read_slot(fdsptr, fd, n);
	return n;
}

SEC("iter/task")
int nsi_fdwalk(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *t = ctx->task;
	struct nsi_walkend end = {.kind = NSI_REC_WALKEND};
	struct nsi_walkcfg *c;
	struct fdtable *fdt;
	struct walk_buf *buf;
	struct file **fds;
	struct reader rd;
	u32 zero = 0, tid;
	u64 len;

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
	len = read_run((u64)fds, c->start, end.max_fds);
	end.next = c->start + NSI_FDWALK_MAX;
	if (end.next > end.max_fds || end.next < c->start)
		end.next = end.max_fds;
	buf = bpf_map_lookup_elem(&bufs, &zero);
	if (buf && len > 0 && len <= NSI_FDWALK_MAX)
		bpf_seq_write(seq, buf->w, len * sizeof(struct nsi_walk));
	bpf_seq_write(seq, &end, sizeof(end));
	return 0;
}
