package eventloop

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"
	"unsafe"
)

// ErrWouldBlock is what a Socket's Read returns when nothing is there to
// read: Conn.Fill passes it on, and the loop skips the connection.
var ErrWouldBlock = errors.New("would block")

// Socket is a connection served by a loop: the raw, non-blocking socket,
// as a net.Conn for the engine's reader and writer. Only the loop reads
// and writes it; Close (from any goroutine) asks the loop to close it.
type Socket struct {
	fd           int
	laddr, raddr net.Addr

	// Set by Add.
	l    *Loop
	conn Conn

	// The loop's goroutine only (with the engine lock held, or alone).
	failed bool // a read or write failed: close
	done   bool // dropped or handed over: no longer the loop's
}

// Take takes the socket of an accepted connection out of Go's poller:
// conn is closed and its socket, duplicated and made non-blocking, is
// the Socket's, to Add to a loop.
func Take(conn net.Conn) (*Socket, error) {
	laddr, raddr := conn.LocalAddr(), conn.RemoteAddr()
	fd, err := takeFd(conn)
	if err != nil {
		return nil, err
	}
	return &Socket{fd: fd, laddr: laddr, raddr: raddr}, nil
}

func takeFd(conn net.Conn) (fd int, err error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd = -1
	cerr := rc.Control(func(s uintptr) {
		syscall.ForkLock.RLock()
		fd, err = syscall.Dup(int(s))
		if err == nil {
			syscall.CloseOnExec(fd)
		}
		syscall.ForkLock.RUnlock()
	})
	if cerr != nil {
		return -1, cerr
	}
	if err != nil {
		return -1, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	conn.Close()
	return fd, nil
}

// rawRead and rawWrite are read(2) and write(2) on a non-blocking socket
// as raw system calls: they never block, so the goroutine keeps its P and
// the scheduler is not involved.
func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// Read reads what the socket has, without waiting: ErrWouldBlock when
// there is nothing.
func (s *Socket) Read(p []byte) (int, error) {
	for {
		n, err := rawRead(s.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, ErrWouldBlock
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Write is not used by the loop (it writes the replies itself); it
// exists for net.Conn and blocks until p is written.
func (s *Socket) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Write(s.fd, p[done:])
		if n > 0 {
			done += n
		}
		switch {
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			time.Sleep(time.Millisecond)
		case err != nil:
			return done, err
		}
	}
	return done, nil
}

// Close asks the loop to close the socket at its next iteration, before
// that iteration's replies are written (CLIENT KILL, output buffer
// limits, the engine's Close).
func (s *Socket) Close() error {
	s.l.mu.Lock()
	s.l.closing = append(s.l.closing, s)
	s.l.mu.Unlock()
	s.l.wakeUp()
	return nil
}

func (s *Socket) LocalAddr() net.Addr              { return s.laddr }
func (s *Socket) RemoteAddr() net.Addr             { return s.raddr }
func (s *Socket) SetDeadline(time.Time) error      { return nil }
func (s *Socket) SetReadDeadline(time.Time) error  { return nil }
func (s *Socket) SetWriteDeadline(time.Time) error { return nil }
