package input

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
)

// SyslogMessage returns the message of an RFC 3164 syslog datagram as nginx
// sends it: "<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MESSAGE", or without the
// hostname (nginx's nohostname). The header's time has no year and no zone
// and is not used: the access-log line inside carries its own. A trailing
// newline is dropped. ok is false when b does not start with such a header.
func SyslogMessage(b []byte) (msg []byte, ok bool) {
	if len(b) < 2 || b[0] != '<' {
		return nil, false
	}
	i := 1
	for i < len(b) && i <= 4 && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 1 || i > 4 || i >= len(b) || b[i] != '>' {
		return nil, false
	}
	rest := b[i+1:]
	// "Nov  2 10:15:42 ": month, day (space-padded), time.
	if len(rest) < 16 || rest[3] != ' ' || rest[6] != ' ' || rest[9] != ':' || rest[12] != ':' || rest[15] != ' ' {
		return nil, false
	}
	rest = rest[16:]
	// HOSTNAME SP TAG ": " or TAG ": ": at most one space before the colon.
	j := bytes.Index(rest, []byte(": "))
	if j <= 0 || bytes.Count(rest[:j], []byte(" ")) > 1 {
		return nil, false
	}
	msg = rest[j+2:]
	if n := len(msg); n > 0 && msg[n-1] == '\n' {
		msg = msg[:n-1]
	}
	return msg, true
}

// ListenSyslog opens a datagram socket for a syslog input: network "udp"
// (addr host:port) or "unixgram" (addr a socket path). A stale socket file
// left at the path by an earlier run is replaced; any other file there is
// an error. The unix socket is made writable by everyone (mode 0666), so
// that nginx's workers, running as another user, can send to it: restrict
// access with the permissions of the directory it is in.
func ListenSyslog(network, addr string) (net.PacketConn, error) {
	if network == "unixgram" {
		if fi, err := os.Lstat(addr); err == nil {
			if fi.Mode()&fs.ModeSocket == 0 {
				return nil, fmt.Errorf("syslog socket %s: a file that is not a socket is in the way", addr)
			}
			if err := os.Remove(addr); err != nil {
				return nil, fmt.Errorf("syslog socket %s: remove the stale socket: %w", addr, err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("syslog socket %s: %w", addr, err)
		}
	}
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		return nil, fmt.Errorf("listen for syslog on %s %s: %w", network, addr, err)
	}
	if network == "unixgram" {
		if err := os.Chmod(addr, 0o666); err != nil {
			pc.Close()
			return nil, fmt.Errorf("syslog socket %s: %w", addr, err)
		}
	}
	return pc, nil
}
