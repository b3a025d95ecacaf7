package procinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
)

// FDInfo is /proc/PID/fdinfo/N: the open file description behind one fd.
type FDInfo struct {
	Pos   int64  // file position ("pos:")
	Flags uint32 // f_flags, O_CLOEXEC included from the fd table ("flags:", octal)
	MntID int    // mount id, as in mountinfo ("mnt_id:"); 0 for an internal mount
	Ino   uint64 // inode number ("ino:", Linux 5.14+; Proc.FD takes it from stat(2) before)
	// Pid is the "Pid:" line of a pidfd: the process it refers to as seen
	// from the reader's pid namespace, 0 when outside it, -1 once it has
	// been reaped. nil for every other kind of fd.
	Pid *int
	// NSpid is the pidfd's process in each nested pid namespace, outermost
	// first ("NSpid:").
	NSpid []int
	// Extra holds the kind-specific lines as the kernel wrote them
	// (eventfd-count, tfd, inotify wd, sigmask, ...).
	Extra []string
}

// ParseFDInfo parses the text of one /proc/PID/fdinfo/N file.
func ParseFDInfo(r io.Reader) (FDInfo, error) { return parseReader(r, parseFDInfo) }

func parseFDInfo(text []byte, readErr error) (FDInfo, error) {
	var fi FDInfo
	var seen int
	sc := lines{text: text, max: bufio.MaxScanTokenSize, err: readErr}
	for sc.scan() {
		line := sc.line
		key, val, ok := bytes.Cut(line, []byte{':'})
		val = bytes.TrimSpace(val)
		var err error
		switch {
		case !ok:
			fi.Extra = append(fi.Extra, string(line))
		case string(key) == "pos":
			fi.Pos, err = strconv.ParseInt(string(val), 10, 64)
			seen |= 1
		case string(key) == "flags":
			var f uint64
			f, err = strconv.ParseUint(string(val), 8, 32)
			fi.Flags = uint32(f)
			seen |= 2
		case string(key) == "mnt_id":
			fi.MntID, err = strconv.Atoi(string(val))
		case string(key) == "ino":
			fi.Ino, err = strconv.ParseUint(string(val), 10, 64)
		case string(key) == "Pid":
			var pid int
			pid, err = strconv.Atoi(string(val))
			fi.Pid = &pid
		case string(key) == "NSpid":
			fi.NSpid, err = parseInts(val)
		default:
			fi.Extra = append(fi.Extra, string(line))
		}
		if err != nil {
			return fi, fmt.Errorf("%w fdinfo field %s %q: %v", ErrParse, key, val, err)
		}
	}
	if sc.err != nil {
		return fi, fmt.Errorf("%w fdinfo: %v", ErrParse, sc.err)
	}
	if seen != 3 {
		return fi, fmt.Errorf("%w fdinfo: no pos: or flags: line", ErrParse)
	}
	return fi, nil
}

// FDInfo reads and parses /proc/PID/fdinfo/<fd>.
func (p *Proc) FDInfo(fd int) (FDInfo, error) {
	return readParsed(p, "fdinfo/"+strconv.Itoa(fd), parseFDInfo)
}

// Open flags as the kernel stores them in f_flags (include/uapi/asm-generic/
// fcntl.h). x/sys cannot be used for the table: its O_LARGEFILE is 0 (the
// userspace view) while the kernel sets it on every 64-bit open, and O_SYNC
// there includes O_DSYNC. Four bits depend on the architecture: archFlags.
type openFlag struct {
	bit  uint32
	name string
}

// archFlags are the bits arm64 moves (arch/arm64/include/uapi/asm/fcntl.h);
// x86_64 keeps asm-generic's. fdinfo is decoded with the table of the
// architecture nsinspect runs on, which is the kernel's.
var archFlags = map[string][]openFlag{
	"amd64": {{0o40000, "O_DIRECT"}, {0o100000, "O_LARGEFILE"}, {0o200000, "O_DIRECTORY"}, {0o400000, "O_NOFOLLOW"}},
	"arm64": {{0o40000, "O_DIRECTORY"}, {0o100000, "O_NOFOLLOW"}, {0o200000, "O_DIRECT"}, {0o400000, "O_LARGEFILE"}},
}

var openFlags = []openFlag{
	{0o100, "O_CREAT"},
	{0o200, "O_EXCL"},
	{0o400, "O_NOCTTY"},
	{0o1000, "O_TRUNC"},
	{0o2000, "O_APPEND"},
	{0o4000, "O_NONBLOCK"},
	{0o10000, "O_DSYNC"},
	{0o20000, "FASYNC"},
	{0o1000000, "O_NOATIME"},
	{0o2000000, "O_CLOEXEC"},
	{0o4000000, "__O_SYNC"},
	{0o10000000, "O_PATH"},
	{0o20000000, "__O_TMPFILE"},
}

// OpenFlagNames decodes an fdinfo flags: value into the O_* names the
// kernel uses, access mode first: 02004002 is O_RDWR|O_NONBLOCK|O_CLOEXEC.
// Bits the table does not know are kept as one octal number.
func OpenFlagNames(flags uint32) []string { return openFlagNames(runtime.GOARCH, flags) }

// openFlagNames decodes with arch's table (amd64's for an unknown arch,
// asm-generic's values).
func openFlagNames(arch string, flags uint32) []string {
	names := []string{[...]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}[flags&3]}
	rest := flags &^ 3
	extra, ok := archFlags[arch]
	if !ok {
		extra = archFlags["amd64"]
	}
	table := append(slices.Clone(openFlags), extra...)
	slices.SortFunc(table, func(a, b openFlag) int { return int(a.bit) - int(b.bit) })
	for _, f := range table {
		if rest&f.bit != 0 {
			names = append(names, f.name)
			rest &^= f.bit
		}
	}
	if rest != 0 {
		names = append(names, fmt.Sprintf("%#o", rest))
	}
	return names
}
