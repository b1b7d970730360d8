package runtime

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
)

// goja compiles regexp Unicode property escapes (\p{...}, \P{...} with the u flag) but they never match: the
// escape is read as the literal letters. rewriteUnicodeProps works around it before a module is compiled by
// replacing every property escape inside a regexp literal with the explicit code point ranges of the property
// (\u{...} escapes, valid in u-mode, the only mode where \p is a property escape). Properties Go's unicode tables
// cannot express are left alone. TestUpstreamUnicodePropertyEscapes reports when goja starts matching natively.

// maxRewrittenSource bounds the sources scanned for property escapes; larger files are compiled unchanged.
const maxRewrittenSource = 16 << 20

var propRangesCache sync.Map // canonical property name -> string (the ranges, class-body syntax)

// unicodeMaxRune is the largest code point.
const unicodeMaxRune = 0x10FFFF

var generalCategoryAliases = map[string]string{
	"Letter": "L", "Cased_Letter": "LC", "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll", "Titlecase_Letter": "Lt",
	"Modifier_Letter": "Lm", "Other_Letter": "Lo", "Mark": "M", "Combining_Mark": "M", "Nonspacing_Mark": "Mn",
	"Spacing_Mark": "Mc", "Enclosing_Mark": "Me", "Number": "N", "Decimal_Number": "Nd", "digit": "Nd",
	"Letter_Number": "Nl", "Other_Number": "No", "Punctuation": "P", "punct": "P", "Connector_Punctuation": "Pc",
	"Dash_Punctuation": "Pd", "Open_Punctuation": "Ps", "Close_Punctuation": "Pe", "Initial_Punctuation": "Pi",
	"Final_Punctuation": "Pf", "Other_Punctuation": "Po", "Symbol": "S", "Math_Symbol": "Sm",
	"Currency_Symbol": "Sc", "Modifier_Symbol": "Sk", "Other_Symbol": "So", "Separator": "Z",
	"Space_Separator": "Zs", "Line_Separator": "Zl", "Paragraph_Separator": "Zp", "Other": "C", "Control": "Cc",
	"cntrl": "Cc", "Format": "Cf", "Private_Use": "Co", "Surrogate": "Cs",
}

// propertyPredicate returns the membership test of a \p{...} body, or nil when it is not supported.
func propertyPredicate(body string) func(rune) bool {
	name, value, hasValue := strings.Cut(body, "=")
	if hasValue {
		switch name {
		case "General_Category", "gc":
			return categoryPredicate(value)
		case "Script", "sc", "Script_Extensions", "scx":
			if t, ok := unicode.Scripts[value]; ok {
				return func(r rune) bool { return unicode.Is(t, r) }
			}
		}
		return nil
	}
	if p := categoryPredicate(body); p != nil {
		return p
	}
	in := func(tabs ...*unicode.RangeTable) func(rune) bool {
		return func(r rune) bool { return unicode.In(r, tabs...) }
	}
	patternOut := func(r rune) bool {
		return unicode.In(r, unicode.Pattern_Syntax, unicode.Pattern_White_Space)
	}
	idStart := func(r rune) bool {
		return unicode.In(r, unicode.L, unicode.Nl, unicode.Other_ID_Start) && !patternOut(r)
	}
	switch body {
	case "Any":
		return func(rune) bool { return true }
	case "ASCII":
		return func(r rune) bool { return r < 0x80 }
	case "ID_Start", "IDS", "XID_Start", "XIDS":
		return idStart
	case "ID_Continue", "IDC", "XID_Continue", "XIDC":
		return func(r rune) bool {
			return idStart(r) || (unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc, unicode.Other_ID_Continue) && !patternOut(r))
		}
	case "Alphabetic", "Alpha":
		return in(unicode.Lu, unicode.Ll, unicode.Lt, unicode.Lm, unicode.Lo, unicode.Nl, unicode.Other_Alphabetic)
	case "Uppercase", "Upper":
		return in(unicode.Lu, unicode.Other_Uppercase)
	case "Lowercase", "Lower":
		return in(unicode.Ll, unicode.Other_Lowercase)
	case "Math":
		return in(unicode.Sm, unicode.Other_Math)
	}
	if t, ok := unicode.Properties[body]; ok {
		return func(r rune) bool { return unicode.Is(t, r) }
	}
	if t, ok := unicode.Scripts[body]; ok { // not standard without sc=, but harmless
		return func(r rune) bool { return unicode.Is(t, r) }
	}
	return nil
}

func categoryPredicate(v string) func(rune) bool {
	if a, ok := generalCategoryAliases[v]; ok {
		v = a
	}
	if v == "LC" {
		return func(r rune) bool { return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt) }
	}
	if t, ok := unicode.Categories[v]; ok {
		return func(r rune) bool { return unicode.Is(t, r) }
	}
	return nil
}

// propertyRanges returns the class-body text (e.g. `\u{41}-\u{5a}\u{61}-\u{7a}`) of the code points of body,
// complemented when negated; ok is false for unsupported properties.
func propertyRanges(body string, negated bool) (string, bool) {
	key := body
	if negated {
		key = "^" + body
	}
	if v, ok := propRangesCache.Load(key); ok {
		return v.(string), true
	}
	pred := propertyPredicate(body)
	if pred == nil {
		return "", false
	}
	var b strings.Builder
	start := rune(-1)
	flush := func(end rune) {
		if start < 0 {
			return
		}
		if start == end {
			fmt.Fprintf(&b, `\u{%x}`, start)
		} else {
			fmt.Fprintf(&b, `\u{%x}-\u{%x}`, start, end)
		}
		start = -1
	}
	for r := rune(0); r <= unicodeMaxRune; r++ {
		in := pred(r) != negated
		if in && start < 0 {
			start = r
		} else if !in && start >= 0 {
			flush(r - 1)
		}
	}
	flush(unicodeMaxRune)
	s := b.String()
	propRangesCache.Store(key, s)
	return s, true
}

// rewriteUnicodeProps replaces \p{...}/\P{...} in regexp literals of a JavaScript source with explicit ranges.
// It returns src unchanged when there is nothing to do. Escapes preceded by an even number of backslashes (string
// literals such as "\\p{L}") are left alone.
func rewriteUnicodeProps(src string) string {
	if len(src) > maxRewrittenSource || (!strings.Contains(src, `\p{`) && !strings.Contains(src, `\P{`)) {
		return src
	}
	var out strings.Builder
	last := 0
	for i := 0; i+3 < len(src); i++ {
		if src[i] != '\\' || (src[i+1] != 'p' && src[i+1] != 'P') || src[i+2] != '{' {
			continue
		}
		n := 0 // backslashes ending at i
		for j := i; j >= 0 && src[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			continue
		}
		end := strings.IndexByte(src[i+3:], '}')
		if end < 0 || end > 64 {
			continue
		}
		body := src[i+3 : i+3+end]
		if strings.ContainsAny(body, "\n\\/{") {
			continue
		}
		negated := src[i+1] == 'P'
		inClass := regexpInClass(src, i)
		ranges, ok := propertyRanges(body, negated && inClass)
		if !ok {
			continue
		}
		out.WriteString(src[last:i])
		switch {
		case inClass:
			out.WriteString(ranges)
		case negated:
			out.WriteString("[^" + ranges + "]")
		default:
			out.WriteString("[" + ranges + "]")
		}
		last = i + 3 + end + 1
		i = last - 1
	}
	if last == 0 {
		return src
	}
	out.WriteString(src[last:])
	return out.String()
}

// regexpInClass reports whether position pos of a regexp literal is inside a character class. The literal is
// taken to start at the closest unescaped '/' before pos on the same line (regexp literals are single-line).
func regexpInClass(src string, pos int) bool {
	lineStart := strings.LastIndexByte(src[:pos], '\n') + 1
	start := -1
	for j := pos - 1; j >= lineStart; j-- {
		if src[j] != '/' {
			continue
		}
		bs := 0
		for k := j - 1; k >= lineStart && src[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			start = j
			break
		}
	}
	if start < 0 {
		start = lineStart - 1
	}
	in := false
	for j := start + 1; j < pos; j++ {
		switch src[j] {
		case '\\':
			j++
		case '[':
			in = true
		case ']':
			in = false
		}
	}
	return in
}
