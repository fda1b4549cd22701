package accesslog

// autoParser decides per line between Caddy JSON (a line starting with '{')
// and nginx combined with an optional trailing quoted X-Forwarded-For (main),
// so a file that mixes them still parses.
type autoParser struct {
	nginx nginxParser // combined
	caddy caddyParser
}

func newAuto() (*autoParser, error) {
	pl, err := compile(CombinedFormat)
	if err != nil {
		return nil, err
	}
	return &autoParser{nginx: nginxParser{name: "combined", plan: pl}}, nil
}

// Name implements Parser.
func (a *autoParser) Name() string { return "auto" }

// Parse implements Parser.
func (a *autoParser) Parse(line []byte, r *Request) error {
	line, err := precheck(line)
	if err != nil {
		return err
	}
	if line[0] == '{' {
		return a.caddy.parse(line, r)
	}
	var v [numFields][]byte
	pos, ok := a.nginx.plan.match(line, &v)
	if !ok {
		return errSyntax
	}
	if tail := line[pos:]; len(tail) > 0 {
		// main: ` "$http_x_forwarded_for"`
		n := len(tail)
		if n < 3 || tail[0] != ' ' || tail[1] != '"' || tail[n-1] != '"' {
			return errSyntax
		}
		xff := tail[2 : n-1 : n-1]
		for i, c := range xff {
			if c == '"' && !escaped(xff[:i]) {
				return errSyntax
			}
		}
		if escaped(xff) {
			return errSyntax
		}
		v[fForwardedFor] = xff
	}
	return a.nginx.finish(&v, r)
}
