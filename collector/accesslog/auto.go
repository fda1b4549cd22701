package accesslog

// autoParser decides per line between the formats New knows by name: Caddy
// JSON (a line starting with '{'), CloudFront (a '#' header line, or a line
// starting with a date or Unix time and a tab), and the nginx-style presets,
// told apart by what follows the combined fields (nothing: combined; one or
// two quoted values: main, sessions; Traefik's or ingress-nginx's fields) or,
// when the combined fields do not match, by the common and vhost_combined
// layouts. A file that mixes them still parses.
type autoParser struct {
	combined, traefik, common, vhost *nginxParser
	caddy                            caddyParser
	cloudfront                       *cloudFrontParser
}

func newAuto() *autoParser {
	get := func(name string) *nginxParser {
		for _, p := range nginxPresets {
			if p.name == name {
				return newPreset(p)
			}
		}
		panic("accesslog: no preset " + name)
	}
	return &autoParser{combined: get("combined"), traefik: get("traefik"), common: get("common"),
		vhost: get("vhost_combined"), cloudfront: newCloudFront()}
}

// Name implements Parser.
func (a *autoParser) Name() string { return "auto" }

// Parse implements Parser.
func (a *autoParser) Parse(line []byte, r *Request) error {
	line, m, err := a.combined.precheck(line)
	if err != nil {
		return err
	}
	switch {
	case line[0] == '{':
		return a.caddy.parse(line, r)
	case line[0] == '#' || startsCloudFront(line):
		return a.cloudfront.parse(line, r)
	}
	var c combinedValues
	if pos, ok := matchCombined(line, a.combined.lastStamp(), m, &c.combinedSpans); ok {
		// "$http_user_agent", the combined format's last value.
		if end := quoteEnd(line, pos, pos); end >= 0 {
			c.agent = line[pos:end:end]
			tail := line[end+1:]
			switch {
			case len(tail) == 0: // combined
			case len(tail) > 1 && tail[1] == '"': // main, sessions
				if c.forwarded, c.host, ok = quotedTail(tail); !ok {
					return errSyntax
				}
			case ingressTail(tail):
			default:
				return a.traefik.Parse(line, r)
			}
			return a.combined.finishCombined(line, &c, r)
		}
	}
	var v values
	if pos, ok := a.common.plan.match(line, m, &v); ok && pos == len(line) && size(v.get(line, fSkip)) {
		return a.common.finish(line, &v, r)
	}
	return a.vhost.Parse(line, r)
}

// quotedTail reads main's ` "$http_x_forwarded_for"` and the sessions
// format's ` "$http_x_forwarded_for" "$host"`, what follows the combined
// fields.
func quotedTail(tail []byte) (forwarded, host []byte, ok bool) {
	for k := 0; len(tail) > 0; k++ {
		if k == 2 || len(tail) < 3 || tail[0] != ' ' || tail[1] != '"' {
			return nil, nil, false
		}
		val := tail[2:]
		end := -1
		for i, c := range val {
			if c == '"' && !escaped(val[:i]) {
				end = i
				break
			}
		}
		if end < 0 {
			return nil, nil, false
		}
		if k == 0 {
			forwarded = val[:end:end]
		} else {
			host = val[:end:end]
		}
		tail = val[end+1:]
	}
	return forwarded, host, true
}

// startsCloudFront reports whether line starts as a CloudFront record does:
// a date ("2026-11-02") or a Unix time ("1793579376.421") and a tab.
func startsCloudFront(line []byte) bool {
	for i, c := range line {
		switch {
		case c == '\t':
			return i >= 10
		case i >= 24 || (c != '-' && c != '.' && (c < '0' || c > '9')):
			return false
		}
	}
	return false
}
