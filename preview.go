package expt

import (
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Previews: what the rollout table shows of a rollout, so that a page of
// 1,024 rollouts of 20 KB sends a few hundred KB instead of 20 MB. The UI
// computes the same from whole rollouts (ui/src/lib/reasoning.ts and
// ui/src/rollouts/format.ts) for rollouts that arrive live; both run the
// cases of api/testdata/previews.json, so they agree. Lengths count UTF-16
// code units, as JavaScript strings do.

// DefaultReasoningTags are the tags read as reasoning unless a caller names others.
var DefaultReasoningTags = []string{"think", "thinking", "reasoning"}

// Preview is the table's view of one rollout.
type Preview struct {
	Answer   string // the final answer on one line, at most PreviewAnswerChars
	Boxed    string // the last \boxed{} of the assistant's messages, at most PreviewBoxedChars
	Chars    int64  // the response length: every assistant message's text
	Messages int    // how many messages were logged
}

// Preview limits, in UTF-16 code units.
const (
	PreviewAnswerChars = 200
	PreviewBoxedChars  = 300
)

// RolloutPreview is r's preview with the given reasoning tags (lower case).
func RolloutPreview(r *Rollout, tags []string) Preview {
	p := Preview{Messages: len(r.Messages)}
	answered, boxedFound := false, false
	for i := len(r.Messages) - 1; i >= 0; i-- {
		m := r.Messages[i]
		if m.Role != "assistant" {
			continue
		}
		text := ContentText(m)
		p.Chars += utf16Len(text)
		if !answered {
			p.Answer, answered = answerOf(m, text, tags)
		}
		if !boxedFound {
			if b := Boxed(text); b != "" {
				p.Boxed, boxedFound = OneLine(b, PreviewBoxedChars), true
			}
		}
	}
	return p
}

// answerOf is one assistant message's preview and whether it has one.
func answerOf(m Message, text string, tags []string) (string, bool) {
	if a := FinalAnswer(text, tags); a != "" {
		return OneLine(PlainMarkdown(a), PreviewAnswerChars), true
	}
	s := SplitReasoning(text, tags)
	if len(s.Reasoning) > 0 {
		if s.Truncated {
			return "(reasoning cut off, no answer)", true
		}
		return "(reasoning only)", true
	}
	var calls struct {
		ToolCalls []struct {
			Function *struct {
				Name json.RawMessage `json:"name"`
			} `json:"function"`
		} `json:"tool_calls"`
	}
	if json.Unmarshal(m.Raw, &calls) == nil && len(calls.ToolCalls) > 0 {
		names := make([]string, len(calls.ToolCalls))
		for i, c := range calls.ToolCalls {
			names[i] = "tool()"
			var name string
			switch {
			case c.Function == nil || len(c.Function.Name) == 0 || string(c.Function.Name) == "null":
			case json.Unmarshal(c.Function.Name, &name) == nil:
				names[i] = name + "()"
			default: // a number or a boolean, as JavaScript would print it
				names[i] = string(c.Function.Name) + "()"
			}
		}
		return "→ " + strings.Join(names, ", "), true
	}
	return "", false
}

// ResponseLength is the length of a rollout's response: its assistant
// messages' text (ContentText), in UTF-16 code units like the browser's
// String.length, so that the length distribution agrees with the rollout
// table's length column.
func ResponseLength(msgs []Message) int64 {
	var n int64
	for _, m := range msgs {
		if m.Role == "assistant" {
			n += utf16Len(ContentText(m))
		}
	}
	return n
}

// ContentText is a message's text: its string content, or the text parts
// of a list joined by newlines.
func ContentText(m Message) string {
	if m.Content != "" {
		return m.Content
	}
	var parts struct {
		Content []struct {
			Text *string `json:"text"`
		} `json:"content"`
	}
	if json.Unmarshal(m.Raw, &parts) != nil {
		return ""
	}
	var texts []string
	for _, p := range parts.Content {
		if p.Text != nil && *p.Text != "" {
			texts = append(texts, *p.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// Split is a text with its reasoning taken out.
type Split struct {
	Reasoning []string // the sections, in order, trimmed, without their tags
	Answer    string   // the rest, trimmed
	Truncated bool     // a section was cut before its closing tag
}

// SplitReasoning takes the reasoning sections out of text: a closing tag
// before any opening one (the chat template opened it in the prompt), every
// tag pair, and a last opening tag never closed (cut at the length limit).
func SplitReasoning(text string, tags []string) Split {
	var reasoning []string
	rest := text
	closeAt, closeEnd, _ := findTag(rest, 0, tags, true, "")
	openAt, _, _ := findTag(rest, 0, tags, false, "")
	if closeAt >= 0 && (openAt < 0 || closeAt < openAt) {
		reasoning = append(reasoning, rest[:closeAt])
		rest = rest[closeEnd:]
	}
	// Pairs, leftmost first: an opening tag with no closing tag of its
	// name after it pairs with nothing, and the search goes on past it.
	var b strings.Builder
	from, kept := 0, 0
	for {
		at, end, name := findTag(rest, from, tags, false, "")
		if at < 0 {
			break
		}
		cAt, cEnd, _ := findTag(rest, end, tags, true, name)
		if cAt < 0 {
			from = at + 1
			continue
		}
		b.WriteString(rest[kept:at])
		reasoning = append(reasoning, rest[end:cAt])
		kept, from = cEnd, cEnd
	}
	b.WriteString(rest[kept:])
	rest = b.String()
	truncated := false
	if at, end, _ := findTag(rest, 0, tags, false, ""); at >= 0 {
		reasoning = append(reasoning, rest[end:])
		rest = rest[:at]
		truncated = true
	}
	out := Split{Answer: jsTrim(rest), Truncated: truncated}
	for _, r := range reasoning {
		if r = jsTrim(r); r != "" {
			out.Reasoning = append(out.Reasoning, r)
		}
	}
	return out
}

// findTag finds the first <tag\s*> (or </tag\s*> with closing) at or after
// from, of one of tags, or of only name when name is set, case-insensitive
// as the UI's /i regular expressions; it returns where it starts and ends
// and the tag name as written.
func findTag(s string, from int, tags []string, closing bool, name string) (at, end int, written string) {
	for i := from; i < len(s); i++ {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			return -1, -1, ""
		}
		i += j
		k := i + 1
		if closing {
			if k >= len(s) || s[k] != '/' {
				continue
			}
			k++
		}
		for _, t := range tags {
			if name != "" && !strings.EqualFold(t, name) {
				continue
			}
			if len(s)-k < len(t) || !strings.EqualFold(s[k:k+len(t)], t) {
				continue
			}
			e := k + len(t)
			for e < len(s) {
				r, size := utf8.DecodeRuneInString(s[e:])
				if !jsSpace(r) {
					break
				}
				e += size
			}
			if e < len(s) && s[e] == '>' {
				return i, e + 1, s[k : k+len(t)]
			}
		}
	}
	return -1, -1, ""
}

// FinalAnswer is what <answer>…</answer> holds, else the text after the reasoning.
func FinalAnswer(text string, tags []string) string {
	a := SplitReasoning(text, tags).Answer
	if i := indexFold(a, "<answer>"); i >= 0 {
		if j := indexFold(a[i+8:], "</answer>"); j >= 0 {
			return jsTrim(a[i+8 : i+8+j])
		}
	}
	return jsTrim(a)
}

// indexFold is strings.Index for an ASCII needle, ignoring ASCII case.
func indexFold(s, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		j := strings.IndexByte(s[i:], needle[0])
		if j < 0 {
			return -1
		}
		i += j
		if i+len(needle) <= len(s) && strings.EqualFold(s[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}

// Boxed is the content of the last \boxed{…} (braces balanced), or "".
func Boxed(text string) string {
	i := strings.LastIndex(text, `\boxed{`)
	if i < 0 {
		return ""
	}
	depth := 0
	for j := i + 6; j < len(text); j++ {
		switch text[j] {
		case '\\':
			j++
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return jsTrim(text[i+7 : j])
			}
		}
	}
	return "" // unbalanced: cut off
}

// PlainMarkdown drops the marks that clutter a one-line preview: fences,
// bold, inline code and heading marks.
func PlainMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "```") {
			// The fence and the rest of its line, newline included.
			j := i + 3
			for j < len(s) && s[j] != '\n' {
				j++
			}
			if j < len(s) {
				j++
			}
			b.WriteByte(' ')
			i = j
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	s = strings.NewReplacer("**", "", "`", "").Replace(b.String())
	b.Reset()
	lineStart := true
	for i := 0; i < len(s); {
		if lineStart {
			n := 0
			for i+n < len(s) && s[i+n] == '#' {
				n++
			}
			if n >= 1 && n <= 6 {
				e := i + n
				last := rune(0)
				for e < len(s) {
					r, size := utf8.DecodeRuneInString(s[e:])
					if !jsSpace(r) {
						break
					}
					e, last = e+size, r
				}
				if e > i+n {
					// /^#{1,6}\s+/gm: the next match may start right after, when the space it took ended a line.
					i, lineStart = e, lineEnd(last)
					continue
				}
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+size])
		lineStart = lineEnd(r)
		i += size
	}
	return b.String()
}

// OneLine collapses whitespace and cuts to max UTF-16 code units with an ellipsis.
func OneLine(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if jsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	t := b.String()
	if utf16Len(t) <= int64(max) {
		return t
	}
	u := utf16.Encode([]rune(t))[:max]
	if n := len(u); n > 0 && u[n-1] >= 0xD800 && u[n-1] < 0xDC00 {
		u = u[:n-1] // no lone half of a pair (JavaScript would keep it, and draw a broken glyph)
	}
	return string(utf16.Decode(u)) + "…"
}

func lineEnd(r rune) bool { return r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' }

// jsSpace is JavaScript's \s: what trim() and /\s/ treat as space.
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff':
		return true
	}
	return r >= '\u2000' && r <= '\u200a'
}

func jsTrim(s string) string { return strings.TrimFunc(s, jsSpace) }

func utf16Len(s string) int64 {
	var n int64
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}
