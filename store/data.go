package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
)

// Sentinel errors of the data model.
var (
	// ErrBadKey is returned for a key chain that is not a string, a number or an array of those.
	ErrBadKey = errors.New("nData Error - invalid key chain")
	// ErrBadValue is returned for a value that is not valid JSON.
	ErrBadValue = errors.New("nData Error - invalid value")
	// ErrBadArgument is returned for an out-of-shape argument (range bounds, seconds, data names).
	ErrBadArgument = errors.New("nData Error - invalid argument")
)

// maxIndexDigits bounds what counts as a numeric (array index) key; longer digit strings are plain keys.
const maxIndexDigits = 9

// maxDepth bounds the nesting of stored values and key chains (bad input must not blow the stack).
const maxDepth = 512

// Key is a key chain: each element names one level. A numeric element is its decimal text.
type Key []string

// ParseKey converts the JSON form of a key chain (a string, a number, or an array of strings and numbers;
// null or [] meaning the root) into a Key.
func ParseKey(raw json.RawMessage) (Key, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return Key{}, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	switch t := v.(type) {
	case string:
		return Key{t}, nil
	case json.Number:
		s, err := numberKey(t)
		if err != nil {
			return nil, err
		}
		return Key{s}, nil
	case []any:
		k := make(Key, 0, len(t))
		for _, e := range t {
			switch et := e.(type) {
			case string:
				k = append(k, et)
			case json.Number:
				s, err := numberKey(et)
				if err != nil {
					return nil, err
				}
				k = append(k, s)
			default:
				return nil, fmt.Errorf("%w: element %v", ErrBadKey, e)
			}
		}
		if len(k) > maxDepth {
			return nil, fmt.Errorf("%w: deeper than %d", ErrBadKey, maxDepth)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrBadKey, truncate(string(raw)))
}

// numberKey renders a JSON number key the way JavaScript turns it into a property name.
func numberKey(n json.Number) (string, error) {
	f, err := n.Float64()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return jsNumber(f), nil
}

// jsNumber formats f as JavaScript's String(f) does for the common cases.
func jsNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// MarshalJSON encodes the chain as a JSON array of strings.
func (k Key) MarshalJSON() ([]byte, error) { return json.Marshal([]string(k)) }

func (k Key) String() string {
	b, _ := json.Marshal([]string(k))
	return string(b)
}

// indexOf reports whether s is a canonical array index ("0", "17"; not "01", "-1", "1.5").
func indexOf(s string) (int, bool) {
	if s == "" || len(s) > maxIndexDigits || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// node is a map level of the store. Numeric keys live in nums (sorted by index), other keys in ents in insertion
// order, which is how JavaScript enumerates an object's own keys. A node with at most smallNodeKeys other keys
// keeps their values in ents and has no map: most levels (a session, its __meta, its sockets) hold one or two keys,
// and a Go map costs several hundred bytes even empty. A larger node keeps the values in vals, indexed by key (the
// val of its ents is then unused).
type node struct {
	arr  bool // created from an array (set with an array value, add, concat)
	nums []numEntry
	ents []entry
	vals map[string]any
}

// smallNodeKeys is the number of non-numeric keys up to which a node finds them by scanning ents.
const smallNodeKeys = 8

type numEntry struct {
	idx int
	val any
}

type entry struct {
	key string
	val any // unused when the node has vals
}

// A stored value is nil (JSON null), bool, float64, string or *node.

func newNode(arr bool) *node { return &node{arr: arr} }

// find is the index of the non-numeric key k in ents, or -1.
func (n *node) find(k string) int {
	for i := range n.ents {
		if n.ents[i].key == k {
			return i
		}
	}
	return -1
}

// valueAt is the value of ents[i].
func (n *node) valueAt(i int) any {
	if n.vals == nil {
		return n.ents[i].val
	}
	return n.vals[n.ents[i].key]
}

func (n *node) numPos(idx int) (int, bool) {
	i := sort.Search(len(n.nums), func(i int) bool { return n.nums[i].idx >= idx })
	return i, i < len(n.nums) && n.nums[i].idx == idx
}

func (n *node) get(k string) (any, bool) {
	if idx, ok := indexOf(k); ok {
		if i, found := n.numPos(idx); found {
			return n.nums[i].val, true
		}
		return nil, false
	}
	if n.vals == nil {
		if i := n.find(k); i >= 0 {
			return n.ents[i].val, true
		}
		return nil, false
	}
	v, ok := n.vals[k]
	return v, ok
}

func (n *node) put(k string, v any) {
	if idx, ok := indexOf(k); ok {
		i, found := n.numPos(idx)
		if found {
			n.nums[i].val = v
			return
		}
		n.nums = append(n.nums, numEntry{})
		copy(n.nums[i+1:], n.nums[i:])
		n.nums[i] = numEntry{idx: idx, val: v}
		return
	}
	if n.vals == nil {
		if i := n.find(k); i >= 0 {
			n.ents[i].val = v
			return
		}
		if len(n.ents) < smallNodeKeys {
			n.ents = append(n.ents, entry{key: k, val: v})
			return
		}
		n.vals = make(map[string]any, len(n.ents)+1)
		for i := range n.ents {
			n.vals[n.ents[i].key] = n.ents[i].val
			n.ents[i].val = nil
		}
	}
	if _, ok := n.vals[k]; !ok {
		n.ents = append(n.ents, entry{key: k})
	}
	n.vals[k] = v
}

// del removes k; a numeric key is spliced out (later numeric keys shift down by one).
func (n *node) del(k string) (any, bool) {
	if idx, ok := indexOf(k); ok {
		i, found := n.numPos(idx)
		if !found {
			return nil, false
		}
		v := n.nums[i].val
		n.nums = append(n.nums[:i], n.nums[i+1:]...)
		for j := i; j < len(n.nums); j++ {
			n.nums[j].idx--
		}
		return v, true
	}
	var v any
	i := -1
	if n.vals == nil {
		if i = n.find(k); i < 0 {
			return nil, false
		}
		v = n.ents[i].val
	} else {
		var ok bool
		if v, ok = n.vals[k]; !ok {
			return nil, false
		}
		delete(n.vals, k)
		i = n.find(k)
	}
	last := len(n.ents) - 1
	copy(n.ents[i:], n.ents[i+1:])
	n.ents[last] = entry{} // no stale references beyond the length
	n.ents = n.ents[:last]
	return v, true
}

func (n *node) length() int { return len(n.nums) + len(n.ents) }

func (n *node) nextIndex() int {
	if len(n.nums) == 0 {
		return 0
	}
	return n.nums[len(n.nums)-1].idx + 1
}

// isArray reports whether the node is shown as a JSON array: created from an array, keys exactly 0..n-1.
func (n *node) isArray() bool {
	if !n.arr || len(n.ents) > 0 {
		return false
	}
	return len(n.nums) == 0 || n.nums[len(n.nums)-1].idx == len(n.nums)-1
}

// entryKeys lists the keys in enumeration order.
func (n *node) entryKeys() []string {
	out := make([]string, 0, n.length())
	for _, e := range n.nums {
		out = append(out, strconv.Itoa(e.idx))
	}
	for i := range n.ents {
		out = append(out, n.ents[i].key)
	}
	return out
}

// encodeValue appends the JSON of v.
func encodeValue(buf *bytes.Buffer, v any) {
	switch t := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		if t {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			buf.WriteString("null")
			return
		}
		if t == 0 {
			t = 0 // JSON.stringify(-0) is "0"
		}
		b, _ := json.Marshal(t)
		buf.Write(b)
	case string:
		b, _ := json.Marshal(t)
		buf.Write(b)
	case *node:
		if t.isArray() {
			buf.WriteByte('[')
			for i, e := range t.nums {
				if i > 0 {
					buf.WriteByte(',')
				}
				encodeValue(buf, e.val)
			}
			buf.WriteByte(']')
			return
		}
		buf.WriteByte('{')
		first := true
		for _, e := range t.nums {
			if !first {
				buf.WriteByte(',')
			}
			first = false
			buf.WriteString(`"` + strconv.Itoa(e.idx) + `":`)
			encodeValue(buf, e.val)
		}
		for i := range t.ents {
			if !first {
				buf.WriteByte(',')
			}
			first = false
			b, _ := json.Marshal(t.ents[i].key)
			buf.Write(b)
			buf.WriteByte(':')
			encodeValue(buf, t.valueAt(i))
		}
		buf.WriteByte('}')
	}
}

func encode(v any) json.RawMessage {
	var buf bytes.Buffer
	encodeValue(&buf, v)
	return buf.Bytes()
}

// decode parses one JSON value into the stored form, keeping object key order.
func decode(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeNext(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadValue, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", ErrBadValue)
	}
	return v, nil
}

func decodeNext(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			n := newNode(true)
			for dec.More() {
				v, err := decodeNext(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.nums = append(n.nums, numEntry{idx: len(n.nums), val: v})
			}
			_, err := dec.Token()
			return n, err
		case '{':
			n := newNode(false)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeNext(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.put(k, v)
			}
			_, err := dec.Token()
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		return t.Float64()
	default:
		return t, nil // nil, bool, string
	}
}

func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// Data is the nData-compatible data model (fleximap semantics, spec 4.1) with per-key expiry. It is not safe for
// concurrent use; Store wraps it with a lock.
type Data struct {
	root *node
	// expiry maps the JSON text of a key chain (Key.String) to its absolute expiry in epoch seconds; Sweep parses
	// the chain back, so an entry holds no second copy of the key.
	expiry map[string]float64
}

// NewData returns an empty data model.
func NewData() *Data { return &Data{root: newNode(false), expiry: map[string]float64{}} }

// lookup walks key; ok is false when a level is missing or a scalar is in the way.
func (d *Data) lookup(key Key) (any, bool) {
	var cur any = d.root
	for _, k := range key {
		n, isNode := cur.(*node)
		if !isNode {
			return nil, false
		}
		v, ok := n.get(k)
		if !ok {
			return nil, false
		}
		cur = v
	}
	return cur, true
}

// parentOf returns the node holding the last element of key, creating missing levels (scalars in the way are
// replaced by maps) when create is set.
func (d *Data) parentOf(key Key, create bool) *node {
	cur := d.root
	for _, k := range key[:len(key)-1] {
		v, ok := cur.get(k)
		n, isNode := v.(*node)
		if !ok || !isNode {
			if !create {
				return nil
			}
			n = newNode(false)
			cur.put(k, n)
		}
		cur = n
	}
	return cur
}

func (d *Data) store(key Key, v any) error {
	if len(key) == 0 {
		n, ok := v.(*node)
		if !ok {
			return fmt.Errorf("%w: the root can only hold an object or array", ErrBadValue)
		}
		d.root = n
		return nil
	}
	d.parentOf(key, true).put(key[len(key)-1], v)
	return nil
}

// Set stores value (JSON) at key, replacing what was there, and returns the stored value.
func (d *Data) Set(key Key, value json.RawMessage) (json.RawMessage, error) {
	v, err := decode(value)
	if err != nil {
		return nil, err
	}
	if err := d.store(key, v); err != nil {
		return nil, err
	}
	return encode(v), nil
}

// Add appends value at the next numeric index of key: a missing key becomes [value], a scalar x becomes
// [x, value]. It returns the value now stored at key.
func (d *Data) Add(key Key, value json.RawMessage) (json.RawMessage, error) {
	v, err := decode(value)
	if err != nil {
		return nil, err
	}
	n, err := d.listAt(key)
	if err != nil {
		return nil, err
	}
	n.put(strconv.Itoa(n.nextIndex()), v)
	return encode(n), nil
}

// listAt returns the node at key for add/concat, creating [] for a missing key and [x] for a scalar x.
func (d *Data) listAt(key Key) (*node, error) {
	cur, ok := d.lookup(key)
	if n, isNode := cur.(*node); ok && isNode {
		return n, nil
	}
	n := newNode(true)
	if ok {
		n.nums = append(n.nums, numEntry{idx: 0, val: cur})
	}
	if err := d.store(key, n); err != nil {
		return nil, err
	}
	return n, nil
}

// Concat appends an array value element by element, merges an object value key by key, and adds a scalar. It
// returns the value now stored at key.
func (d *Data) Concat(key Key, value json.RawMessage) (json.RawMessage, error) {
	v, err := decode(value)
	if err != nil {
		return nil, err
	}
	vn, isNode := v.(*node)
	_, exists := d.lookup(key)
	n, err := d.listAt(key)
	if err != nil {
		return nil, err
	}
	switch {
	case !isNode:
		n.put(strconv.Itoa(n.nextIndex()), v)
	case vn.isArray():
		for _, e := range vn.nums {
			n.put(strconv.Itoa(n.nextIndex()), e.val)
		}
	default:
		if !exists {
			n.arr = false
		}
		for _, k := range vn.entryKeys() {
			ev, _ := vn.get(k)
			n.put(k, ev)
		}
	}
	return encode(n), nil
}

// Get returns the value at key, or nil (undefined) when it does not exist.
func (d *Data) Get(key Key) json.RawMessage {
	v, ok := d.lookup(key)
	if !ok {
		return nil
	}
	return encode(v)
}

// GetAll returns the whole store.
func (d *Data) GetAll() json.RawMessage { return encode(d.root) }

// Count returns the number of entries at key: entries of a map, 1 for a scalar, 0 when missing.
func (d *Data) Count(key Key) int {
	v, ok := d.lookup(key)
	if !ok {
		return 0
	}
	if n, isNode := v.(*node); isNode {
		return n.length()
	}
	return 1
}

// HasKey reports whether key exists.
func (d *Data) HasKey(key Key) bool {
	_, ok := d.lookup(key)
	return ok
}

// Remove deletes key (a numeric last element splices its array) and returns the removed value.
func (d *Data) Remove(key Key) json.RawMessage {
	if len(key) == 0 {
		old := d.root
		d.root = newNode(false)
		return encode(old)
	}
	p := d.parentOf(key, false)
	if p == nil {
		return nil
	}
	v, ok := p.del(key[len(key)-1])
	if !ok {
		return nil
	}
	return encode(v)
}

// RemoveAll clears the store (expiry entries included).
func (d *Data) RemoveAll() {
	d.root = newNode(false)
	d.expiry = map[string]float64{}
}

// Pop removes the last numeric entry at key and returns it (fleximap >= 0.9.10 behaviour); nil when there is none.
func (d *Data) Pop(key Key) json.RawMessage {
	v, ok := d.lookup(key)
	n, isNode := v.(*node)
	if !ok || !isNode || len(n.nums) == 0 {
		return nil
	}
	last, _ := n.del(strconv.Itoa(n.nums[len(n.nums)-1].idx))
	return encode(last)
}

// rangeKeys selects the keys of n in [from, to): by index when n shows as an array, else from the key named
// from up to (excluding) the key named to, in enumeration order. A nil bound is open.
func rangeKeys(n *node, from, to json.RawMessage) ([]string, error) {
	if n.isArray() {
		lo, hi := 0, len(n.nums)
		if f, ok, err := rangeIndex(from); err != nil {
			return nil, err
		} else if ok {
			lo = clampIndex(f, len(n.nums))
		}
		if t, ok, err := rangeIndex(to); err != nil {
			return nil, err
		} else if ok {
			hi = clampIndex(t, len(n.nums))
		}
		out := make([]string, 0, max(hi-lo, 0))
		for i := lo; i < hi; i++ {
			out = append(out, strconv.Itoa(i))
		}
		return out, nil
	}
	fromKey, hasFrom, err := rangeName(from)
	if err != nil {
		return nil, err
	}
	toKey, hasTo, err := rangeName(to)
	if err != nil {
		return nil, err
	}
	var out []string
	in := !hasFrom
	for _, k := range n.entryKeys() {
		if hasFrom && k == fromKey {
			in = true
		}
		if hasTo && k == toKey {
			break
		}
		if in {
			out = append(out, k)
		}
	}
	return out, nil
}

// clampIndex applies Array.prototype.slice's rules for a bound (negative counts from the end).
func clampIndex(i, n int) int {
	if i < 0 {
		i += n
		if i < 0 {
			i = 0
		}
	}
	if i > n {
		i = n
	}
	return i
}

func rangeIndex(raw json.RawMessage) (int, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false, fmt.Errorf("%w: range bound %s", ErrBadArgument, truncate(string(raw)))
		}
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, false, fmt.Errorf("%w: range bound %q", ErrBadArgument, truncate(s))
		}
	}
	if math.IsNaN(f) || math.Abs(f) > 1<<31 {
		return 0, false, fmt.Errorf("%w: range bound %v", ErrBadArgument, f)
	}
	return int(f), true, nil
}

func rangeName(raw json.RawMessage) (string, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	k, err := ParseKey(raw)
	if err != nil || len(k) != 1 {
		return "", false, fmt.Errorf("%w: range bound %s", ErrBadArgument, truncate(string(raw)))
	}
	return k[0], true, nil
}

// rangeOf returns the map at key and its keys in [from, to) (see rangeKeys); a nil node when key is missing or
// holds a scalar.
func (d *Data) rangeOf(key Key, from, to json.RawMessage) (*node, []string, error) {
	v, ok := d.lookup(key)
	n, isNode := v.(*node)
	if !ok || !isNode {
		return nil, nil, nil
	}
	keys, err := rangeKeys(n, from, to)
	if err != nil {
		return nil, nil, err
	}
	return n, keys, nil
}

// GetRange returns the entries of the map at key in [from, to) (see rangeKeys) as an array when the map shows as
// an array, else as an object. to may be nil (to the end). Missing key or scalar: nil.
func (d *Data) GetRange(key Key, from, to json.RawMessage) (json.RawMessage, error) {
	n, keys, err := d.rangeOf(key, from, to)
	if n == nil || err != nil {
		return nil, err
	}
	out := newNode(n.isArray())
	for _, k := range keys {
		ev, _ := n.get(k)
		if out.arr {
			out.put(strconv.Itoa(len(out.nums)), ev)
		} else {
			out.put(k, ev)
		}
	}
	return encode(out), nil
}

// RemoveRange deletes the entries GetRange would return and returns them.
func (d *Data) RemoveRange(key Key, from, to json.RawMessage) (json.RawMessage, error) {
	n, keys, err := d.rangeOf(key, from, to)
	if n == nil || err != nil {
		return nil, err
	}
	out := newNode(n.isArray())
	if out.arr {
		// Splicing shifts later indexes down, so the first selected index is removed len(keys) times.
		for i := range keys {
			ev, _ := n.del(keys[0])
			out.put(strconv.Itoa(i), ev)
		}
		return encode(out), nil
	}
	// Remove numeric keys from the highest down so that splicing does not move the ones still to remove.
	removed := map[string]any{}
	for i := len(keys) - 1; i >= 0; i-- {
		if _, isIdx := indexOf(keys[i]); isIdx {
			removed[keys[i]], _ = n.del(keys[i])
		}
	}
	for _, k := range keys {
		if _, isIdx := indexOf(k); isIdx {
			out.put(k, removed[k])
		}
	}
	for _, k := range keys {
		if _, isIdx := indexOf(k); !isIdx {
			ev, _ := n.del(k)
			out.put(k, ev)
		}
	}
	return encode(out), nil
}

// Expire sets the expiry of every key to now+seconds (epoch seconds); the keys need not exist yet.
func (d *Data) Expire(keys []Key, seconds, now float64) error {
	if math.IsNaN(seconds) || math.IsInf(seconds, 0) {
		return fmt.Errorf("%w: seconds %v", ErrBadArgument, seconds)
	}
	for _, k := range keys {
		d.expiry[k.String()] = now + seconds
	}
	return nil
}

// Unexpire removes the expiry of every key.
func (d *Data) Unexpire(keys []Key) {
	for _, k := range keys {
		delete(d.expiry, k.String())
	}
}

// GetExpiry returns the absolute expiry of key in epoch seconds.
func (d *Data) GetExpiry(key Key) (float64, bool) {
	at, ok := d.expiry[key.String()]
	return at, ok
}

// Sweep removes every key whose expiry is at or before now, earliest first, and returns how many expired.
func (d *Data) Sweep(now float64) int {
	type dueKey struct {
		key string
		at  float64
	}
	var due []dueKey
	for k, at := range d.expiry {
		if at <= now {
			due = append(due, dueKey{k, at})
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if due[i].at != due[j].at {
			return due[i].at < due[j].at
		}
		return due[i].key < due[j].key
	})
	for _, e := range due {
		delete(d.expiry, e.key)
		if k, err := ParseKey(json.RawMessage(e.key)); err == nil {
			d.Remove(k)
		}
	}
	return len(due)
}

// snapshot is the persisted form of Data (used by the Redis engine for one document).
type snapshot struct {
	Data   json.RawMessage    `json:"d"`
	Expiry map[string]float64 `json:"e,omitempty"`
}

// MarshalJSON encodes the data and its expiry table.
func (d *Data) MarshalJSON() ([]byte, error) {
	s := snapshot{Data: encode(d.root)}
	if len(d.expiry) > 0 {
		s.Expiry = make(map[string]float64, len(d.expiry))
		for k, at := range d.expiry {
			s.Expiry[k] = at
		}
	}
	return json.Marshal(s)
}

// UnmarshalJSON restores what MarshalJSON wrote.
func (d *Data) UnmarshalJSON(b []byte) error {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: %v", ErrBadValue, err)
	}
	nd := NewData()
	if len(s.Data) > 0 {
		v, err := decode(s.Data)
		if err != nil {
			return err
		}
		n, ok := v.(*node)
		if !ok {
			return fmt.Errorf("%w: root is not a map", ErrBadValue)
		}
		nd.root = n
	}
	for ks, at := range s.Expiry {
		k, err := ParseKey(json.RawMessage(ks))
		if err != nil {
			return err
		}
		nd.expiry[k.String()] = at
	}
	*d = *nd
	return nil
}

// empty reports whether there is neither data nor expiry.
func (d *Data) empty() bool { return d.root.length() == 0 && len(d.expiry) == 0 }
