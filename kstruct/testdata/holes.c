/*
 * Structs for kstruct's tests of holes, padding and cache lines: each one
 * shows a case of pahole's (dwarves_fprintf.c, dwarves.c). holes.btf is
 * this file's BTF and holes.pahole what pahole prints for each struct;
 * regenerate both with ./holes.sh.
 */

/* struct nsproxy's shape: a 4-byte count, then pointers. */
struct count_then_pointers {
	int count;
	void *a, *b, *c, *d, *e, *f, *g, *h;
};

/* a shares x's unsigned int: a bit hole to the end of that int, then a
 * byte hole to c. */
struct shared_unit {
	char x;
	unsigned int a:4;
	long c;
};

/* An explicit :0 starts a new unit: bit holes after a and b. */
struct forced_unit {
	unsigned int a:4;
	unsigned int :0;
	unsigned int b:1;
	long c;
};

/* A last bitfield: bit padding in its unit, then byte padding. */
struct tail_bits {
	long l;
	unsigned int a:3;
};

/* An unnamed leading bitfield is not in the BTF: a hole before a. */
struct leading_bits {
	int:3;
	int a:2;
};

/* Padding at the end of a struct, and in a member of that type. */
struct ends_padded {
	long a;
	char b;
};

typedef struct ends_padded ends_padded_t;

struct holds_padded {
	struct ends_padded p;
	int x;
	ends_padded_t t; /* a typedef: pahole does not look inside */
	char y;
};

/* A union whose members each cross the first cache line: pahole marks the
 * boundary in each, and a hole inside an anonymous struct. */
struct union_crossing {
	char head[56];
	union {
		struct {
			int a;
			long b;
			long c;
		};
		struct {
			long d;
			long e;
		};
	};
	long after[10];
};

/* A union's member whose struct ends in padding: pahole says nothing of
 * it there, only in a struct. */
struct padded_in_union {
	union {
		struct {
			long x;
			char y;
		};
		long z;
	};
	struct {
		long u;
		char v;
	};
};

/* A zero-length member between others, and a flexible array at the end. */
struct zero_sized {
	char c;
	int none[0];
	long l;
	int n;
	long data[];
};

/* A member aligned past its natural alignment. */
struct aligned_member {
	int x;
	int y __attribute__((aligned(64)));
	char z;
};

struct count_then_pointers v1;
struct shared_unit v2;
struct forced_unit v3;
struct tail_bits v4;
struct leading_bits v5;
struct holds_padded v6;
struct union_crossing v7;
struct zero_sized v8;
struct aligned_member v9;
struct padded_in_union v10;
