package htmlscan

import "fmt"

// A TagSet is a set of tag names for Scanner.Only. It does not change once made: scanners on
// several goroutines may share one.
type TagSet struct {
	// firsts has a bit per first letter of the names of each length: most names that are not
	// in the set are told apart by these two alone.
	firsts [maxTagSetName + 1]uint32
	names  []string
}

// maxTagSetName is the longest name a TagSet holds.
const maxTagSetName = 31

// NewTagSet returns the set of the names given. A name is written as TagName returns it, in
// lower case: an ASCII letter, then ASCII letters, digits and '-', 31 bytes at most.
// NewTagSet panics on other names: a name in upper case would never match, and the others
// are not worth a slower set.
func NewTagSet(names ...string) *TagSet {
	t := &TagSet{}
	for _, name := range names {
		if !validTagSetName(name) {
			panic(fmt.Sprintf("htmlscan: %q cannot be in a TagSet", name))
		}
		t.firsts[len(name)] |= 1 << (name[0] - 'a')
		t.names = append(t.names, name)
	}
	return t
}

func validTagSetName(name string) bool {
	if len(name) == 0 || len(name) > maxTagSetName || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// mayHave reports whether name, as written in the document (starting with an ASCII letter),
// may be in t: whether a name of its length and first letter is. It is has without the
// loop, so that it is inlined.
func (t *TagSet) mayHave(name []byte) bool {
	return len(name) <= maxTagSetName && t.firsts[len(name)]&(1<<(name[0]|0x20-'a')) != 0
}

// has reports whether name, as written in the document (starting with an ASCII letter),
// lower-cased is in t. A name holding NUL, which TagName would rewrite, is in no TagSet.
func (t *TagSet) has(name []byte) bool {
	if !t.mayHave(name) {
		return false
	}
	for _, n := range t.names {
		if len(n) == len(name) && equalLower(name, n) {
			return true
		}
	}
	return false
}

// Only makes Next skip the start and end tags whose names are not in set, as if the
// document did not have them, except that a skipped <script>, <style>, <title> or other raw
// text element still hides the tags in its text. A nil set, the default, reports every tag;
// Reset makes it nil again. Skipped tags cost less: Next reads them only to find where they
// end, and returns to the caller only for the others. A caller that tracks state, such as
// foreign content for AllowCDATA and NextIsNotRawText, can narrow the set while no skipped
// tag could change that state, and widen it when one could.
func (s *Scanner) Only(set *TagSet) { s.only = set }
