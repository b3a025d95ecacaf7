package kstruct

import (
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// DefaultCachelineSize is the cache line pahole falls back to when the
// machine does not say, and the L1 data cache line of both architectures
// nsinspect is built for: x86_64 (L1_CACHE_BYTES, 1 <<
// CONFIG_X86_L1_CACHE_SHIFT = 6 in the generic and distribution configs)
// and arm64 (L1_CACHE_SHIFT 6 in arch/arm64/include/asm/cache.h).
const DefaultCachelineSize = 64

// cpu0Cache is sysfs's description of cpu0's caches, one indexN directory
// per cache (Documentation/ABI/testing/sysfs-devices-system-cpu).
const cpu0Cache = "/sys/devices/system/cpu/cpu0/cache"

// MachineCachelineSize is the running machine's level 1 data cache line
// in bytes, which is what pahole uses by default (glibc's
// sysconf(_SC_LEVEL1_DCACHE_LINESIZE), or sysfs without it). nsinspect
// reads sysfs, the kernel's view of the same CPU registers, and falls back
// to DefaultCachelineSize as pahole does.
func MachineCachelineSize() uint32 {
	return cachelineSize(os.DirFS(cpu0Cache))
}

// cachelineSize reads coherency_line_size from the index directory of
// fsys that describes the level 1 data (or unified) cache.
func cachelineSize(fsys fs.FS) uint32 {
	dirs, err := fs.Glob(fsys, "index*")
	if err != nil {
		return DefaultCachelineSize
	}
	read := func(dir, name string) string {
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	for _, dir := range dirs {
		if read(dir, "level") != "1" {
			continue
		}
		if t := read(dir, "type"); t != "Data" && t != "Unified" {
			continue
		}
		if n, err := strconv.ParseUint(read(dir, "coherency_line_size"), 10, 32); err == nil && n > 0 {
			return uint32(n)
		}
	}
	return DefaultCachelineSize
}
