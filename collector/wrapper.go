package collector

import (
	"github.com/session-exporter/session-exporter/collector/config"
	"github.com/session-exporter/session-exporter/collector/input"
)

// unwrapper takes the access-log line out of a container runtime's log
// record (logs[].container), joining partial records per file.
type unwrapper struct {
	docker bool
	stream input.Stream
	max    int
	joins  map[any]*input.Joiner
	buf    []byte
	rec    input.Record
}

func newUnwrapper(l config.Log, maxLine int) *unwrapper {
	if l.Container == "" {
		return nil
	}
	return &unwrapper{docker: l.Container == "docker", stream: input.StreamOf(l.Stream), max: maxLine,
		joins: map[any]*input.Joiner{}}
}

// unwrap returns the complete line a record ends (ok), or that the joined
// line was too long, or neither: a partial record, or one of another
// stream. A record that is not in the runtime's format is returned as it is,
// so that the parser rejects it and it is counted.
func (u *unwrapper) unwrap(key any, record []byte) (line []byte, ok, tooLong bool) {
	var good bool
	if u.docker {
		u.buf, good = input.Docker(record, &u.rec, u.buf)
	} else {
		good = input.CRI(record, &u.rec)
	}
	if !good {
		return record, true, false
	}
	if u.rec.Stream&u.stream == 0 {
		return nil, false, false
	}
	j := u.joins[key]
	if j == nil {
		j = input.NewJoiner(u.max)
		u.joins[key] = j
	}
	line, complete, tooLong := j.Add(&u.rec)
	return line, complete && !tooLong, tooLong
}

// forget drops the partial line held for key (its file was closed).
func (u *unwrapper) forget(key any) { delete(u.joins, key) }
