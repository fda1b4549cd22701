package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder fills a Config from a YAML node tree, walking the tree against
// the struct: a key the struct lacks is an error naming its line, a value
// of the wrong kind names its key, and the line of every key is kept so
// that validation errors can point at it too.
type decoder struct {
	lines map[string]int // field path ("logs[0].format") to the line of its key
}

// decode fills v (a struct, slice or value) from n. path is v's field path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if isNull(n) {
		if v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice || v.Kind() == reflect.Map {
			v.Set(reflect.Zero(v.Type()))
		}
		return nil
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.decode(n, v.Elem(), path)
	case t.Kind() == reflect.Struct:
		return d.mapping(n, v, path)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		if n.Kind != yaml.SequenceNode {
			return &Error{Line: n.Line, Field: path, Msg: "want a list, got " + describe(n)}
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = item.Line
			if err := d.decode(item, s.Index(i), p); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	switch {
	case t.Kind() == reflect.Slice && n.Kind != yaml.SequenceNode:
		return &Error{Line: n.Line, Field: path, Msg: "want a list, got " + describe(n)}
	case t.Kind() == reflect.Map && n.Kind != yaml.MappingNode:
		return &Error{Line: n.Line, Field: path, Msg: "want keys and values, got " + describe(n)}
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return &Error{Line: n.Line, Field: path, Msg: leafError(err)}
	}
	return nil
}

// mapping fills the struct v from the mapping node n.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		if path == "" {
			return &Error{Line: n.Line, Msg: "the configuration must be a mapping of keys such as listen: and logs: (see config.example.yaml)"}
		}
		return &Error{Line: n.Line, Field: path, Msg: "want keys and values, got " + describe(n)}
	}
	fields := yamlFields(v.Type())
	// Merge keys (<<: *defaults) first, so that the keys beside them win.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			if err := d.merge(n.Content[i+1], v, path); err != nil {
				return err
			}
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			continue
		}
		key := k.Value
		idx, ok := fields[key]
		if !ok || k.Kind != yaml.ScalarNode {
			msg := fmt.Sprintf("unknown key %q", key)
			if s := suggest(key, fields); s != "" {
				msg += " (did you mean " + s + "?)"
			}
			return &Error{Line: k.Line, Field: path, Msg: msg}
		}
		p := key
		if path != "" {
			p = path + "." + key
		}
		if line, dup := seen[key]; dup {
			return &Error{Line: k.Line, Field: p, Msg: fmt.Sprintf("given twice (first on line %d)", line)}
		}
		seen[key] = k.Line
		d.lines[p] = k.Line
		if err := d.decode(val, v.Field(idx), p); err != nil {
			return err
		}
	}
	return nil
}

// merge fills the struct v from the value of a merge key: a mapping, or a
// list of them.
func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.SequenceNode {
		return d.mapping(n, v, path)
	}
	for _, m := range slices.Backward(n.Content) { // the first listed wins
		if m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		if err := d.mapping(m, v, path); err != nil {
			return err
		}
	}
	return nil
}

// yamlFields maps the YAML keys of struct type t to field indexes.
func yamlFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = i
	}
	return m
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names what node n holds, for "want X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "keys and values"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 20 {
		v = v[:17] + "..."
	}
	return fmt.Sprintf("%q", v)
}

// leafError is the message of the YAML library's error decoding a scalar,
// list of scalars or map, without its "line N:" (the caller adds its own).
func leafError(err error) string {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if strings.HasPrefix(msg, "line ") {
		if _, rest, ok := strings.Cut(msg, ": "); ok {
			msg = rest
		}
	}
	return oneLine(msg)
}

// suggest returns the key of fields closest to key, if it is close enough
// to be a typing mistake.
func suggest(key string, fields map[string]int) string {
	keys := slices.Sorted(maps.Keys(fields))
	best, bestD := "", min(len(key)/2+1, 3)
	for _, f := range keys {
		if d := distance(strings.ToLower(key), f); d < bestD {
			best, bestD = f, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
