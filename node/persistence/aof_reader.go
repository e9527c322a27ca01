package persistence

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// An append-only file is a stream of RESP arrays of bulk strings, one per
// command ("*<argc>\r\n" then argc x "$<len>\r\n<bytes>\r\n"), exactly what
// AOFWriter appends. A file that ends in the middle of a command is
// truncated (a crash while appending); anything else that does not parse is
// corrupt.

// Limits that keep a corrupt length from becoming a huge allocation: bulk
// data is read in chunks, so memory follows the file, not the header.
const (
	maxAOFArgs    = 1 << 24
	maxAOFBulkLen = 1 << 34
	maxAOFLineLen = 32
)

// ErrMultiNotClosed marks a file whose last MULTI has no EXEC: the
// transaction is incomplete and is treated as a truncated tail (it wraps
// ErrTruncated).
var ErrMultiNotClosed = fmt.Errorf("%w: MULTI without EXEC at the end of the file", ErrTruncated)

// AOFLoadInfo says what a load found.
type AOFLoadInfo struct {
	Commands int64 // commands delivered
	Size     int64 // bytes of the file that were loaded (all of it unless truncated)
	// Truncated is set when the file ended inside a command (or inside a
	// MULTI block) and the tail was ignored: TruncatedAt is the length of
	// the valid prefix, TailBytes how many bytes followed it.
	Truncated   bool
	TruncatedAt int64
	TailBytes   int64
}

// ReadAOF reads a RESP command stream from r and calls fn with each
// command's arguments, in order (a MULTI ... EXEC block is delivered only
// once its EXEC has been read, so an interrupted transaction is never half
// applied). fn may keep argv: it is not reused.
//
// A stream that ends in the middle of a command returns a *LoadError
// wrapping ErrTruncated whose Offset is the end of the last complete
// command and Tail the bytes after it; with allowTruncated the same
// situation is reported in the returned info instead, with a nil error. A
// corrupt stream returns a *LoadError wrapping ErrCorrupt at the offset of
// the command at fault.
func ReadAOF(r io.Reader, name string, allowTruncated bool, fn func(argv [][]byte) error) (AOFLoadInfo, error) {
	ar := &aofReader{r: bufio.NewReaderSize(r, 256<<10)}
	var info AOFLoadInfo
	var multi [][][]byte // buffered transaction, nil when none is open
	multiStart := int64(-1)
	for {
		start := ar.off
		argv, err := ar.command()
		if err == io.EOF {
			// The stream ended at a command boundary.
			if multi == nil {
				info.Size = ar.off
				return info, nil
			}
			err = ErrMultiNotClosed
		}
		if errors.Is(err, ErrTruncated) {
			validEnd := start
			if multi != nil {
				validEnd = multiStart // the open block was never delivered
			}
			tail := ar.off - validEnd
			if allowTruncated {
				info.Truncated, info.TruncatedAt, info.TailBytes, info.Size = true, validEnd, tail, validEnd
				return info, nil
			}
			return info, &LoadError{File: name, Offset: validEnd, Tail: tail,
				Err: fmt.Errorf("%w: %d bytes after the last complete command", err, tail)}
		}
		if err != nil {
			return info, &LoadError{File: name, Offset: start, Err: err}
		}
		switch {
		case isCommand(argv, "MULTI"):
			if multi != nil {
				return info, &LoadError{File: name, Offset: start, Err: fmt.Errorf("%w: nested MULTI", ErrCorrupt)}
			}
			multi, multiStart = [][][]byte{argv}, start
			continue
		case multi != nil && isCommand(argv, "EXEC"):
			for _, cmd := range append(multi, argv) {
				if err := fn(cmd); err != nil {
					return info, &LoadError{File: name, Offset: multiStart, Err: err}
				}
				info.Commands++
			}
			multi = nil
			continue
		case multi != nil:
			multi = append(multi, argv)
			continue
		}
		if err := fn(argv); err != nil {
			return info, &LoadError{File: name, Offset: start, Err: err}
		}
		info.Commands++
	}
}

func isCommand(argv [][]byte, name string) bool {
	return len(argv) > 0 && bytes.EqualFold(argv[0], []byte(name))
}

type aofReader struct {
	r   *bufio.Reader
	off int64
}

// command reads one command. io.EOF with nothing consumed is a clean end;
// ErrTruncated means the data stopped inside a command.
func (ar *aofReader) command() ([][]byte, error) {
	b, err := ar.r.ReadByte()
	if err != nil {
		return nil, err // io.EOF at a command boundary, or an I/O error
	}
	ar.off++
	if b != '*' {
		return nil, fmt.Errorf("%w: expected '*', found %q", ErrCorrupt, b)
	}
	argc, err := ar.length()
	if err != nil {
		return nil, err
	}
	if argc < 1 || argc > maxAOFArgs {
		return nil, fmt.Errorf("%w: bad argument count %d", ErrCorrupt, argc)
	}
	argv := make([][]byte, 0, min(argc, 1024))
	for range argc {
		b, err := ar.r.ReadByte()
		if err != nil {
			return nil, truncatedIfEOF(err)
		}
		ar.off++
		if b != '$' {
			return nil, fmt.Errorf("%w: expected '$', found %q", ErrCorrupt, b)
		}
		n, err := ar.length()
		if err != nil {
			return nil, err
		}
		if n < 0 || n > maxAOFBulkLen {
			return nil, fmt.Errorf("%w: bad bulk length %d", ErrCorrupt, n)
		}
		arg, err := ar.bulk(n)
		if err != nil {
			return nil, err
		}
		argv = append(argv, arg)
	}
	return argv, nil
}

// length reads a decimal number terminated by CRLF.
func (ar *aofReader) length() (int64, error) {
	var line []byte
	for {
		b, err := ar.r.ReadByte()
		if err != nil {
			return 0, truncatedIfEOF(err)
		}
		ar.off++
		if b == '\n' {
			break
		}
		line = append(line, b)
		if len(line) > maxAOFLineLen {
			return 0, fmt.Errorf("%w: length line too long", ErrCorrupt)
		}
	}
	if len(line) < 2 || line[len(line)-1] != '\r' {
		return 0, fmt.Errorf("%w: bad length line %q", ErrCorrupt, line)
	}
	n, err := strconv.ParseInt(string(line[:len(line)-1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: bad length %q", ErrCorrupt, line[:len(line)-1])
	}
	return n, nil
}

// bulk reads n bytes and the CRLF after them.
func (ar *aofReader) bulk(n int64) ([]byte, error) {
	const chunk = 1 << 20
	buf := make([]byte, 0, min(n, chunk))
	for int64(len(buf)) < n {
		want := min(n-int64(len(buf)), chunk)
		start := len(buf)
		buf = append(buf, make([]byte, want)...)
		got, err := io.ReadFull(ar.r, buf[start:])
		ar.off += int64(got)
		if err != nil {
			return nil, truncatedIfEOF(err)
		}
	}
	for _, want := range []byte{'\r', '\n'} {
		b, err := ar.r.ReadByte()
		if err != nil {
			return nil, truncatedIfEOF(err)
		}
		ar.off++
		if b != want {
			return nil, fmt.Errorf("%w: bulk string not terminated by CRLF", ErrCorrupt)
		}
	}
	return buf, nil
}

// LoadAOFFile loads one AOF file. With trimTruncated, a truncated tail is
// cut off the file (os.Truncate to the end of the last complete command,
// then fsync) and the load succeeds; the info says so, for the log.
func LoadAOFFile(path string, trimTruncated bool, fn func(argv [][]byte) error) (AOFLoadInfo, error) {
	return loadAOFFile(path, trimTruncated, nil, fn)
}

// loadAOFFile is LoadAOFFile reporting each read to progress (when set).
func loadAOFFile(path string, trimTruncated bool, progress func(n int), fn func(argv [][]byte) error) (AOFLoadInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return AOFLoadInfo{}, err
	}
	info, err := ReadAOF(progressReader(f, progress), path, trimTruncated, fn)
	f.Close()
	if err != nil || !info.Truncated {
		return info, err
	}
	if err := truncateFile(path, info.TruncatedAt); err != nil {
		return info, fmt.Errorf("trimming the truncated tail of %s at offset %d: %w", path, info.TruncatedAt, err)
	}
	return info, nil
}

func truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}
