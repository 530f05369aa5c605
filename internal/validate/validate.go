// Package validate collects input constraint violations the way AWS reports
// them: every failing member named, in one ValidationException.
package validate

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/agentcore-identity/agentcore/internal/awserr"
)

// Errors accumulates field violations.
type Errors struct {
	fields []awserr.FieldError
}

// Add records a violation of member name.
func (v *Errors) Add(name, format string, args ...any) {
	v.fields = append(v.fields, awserr.FieldError{Name: name, Message: fmt.Sprintf(format, args...)})
}

// Err returns the ValidationException, or nil when nothing failed.
func (v *Errors) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return awserr.Field(v.fields...)
}

// Required checks that a required member is present (non-nil).
func (v *Errors) Required(name string, present bool) bool {
	if !present {
		v.Add(name, "Member must not be null")
	}
	return present
}

// String checks length (in characters) and, when re is non-nil, pattern.
func (v *Errors) String(name, s string, minLen, maxLen int, re *regexp.Regexp) bool {
	n := utf8.RuneCountInString(s)
	switch {
	case n < minLen:
		v.Add(name, "Member must have length greater than or equal to %d", minLen)
		return false
	case maxLen > 0 && n > maxLen:
		v.Add(name, "Member must have length less than or equal to %d", maxLen)
		return false
	case re != nil && !re.MatchString(s):
		v.Add(name, "Member must satisfy regular expression pattern: %s", strings.TrimSuffix(strings.TrimPrefix(re.String(), "^"), "$"))
		return false
	}
	return true
}

// OptString checks an optional string member when present.
func (v *Errors) OptString(name string, s *string, minLen, maxLen int, re *regexp.Regexp) {
	if s != nil {
		v.String(name, *s, minLen, maxLen, re)
	}
}

// Count checks a list or map size.
func (v *Errors) Count(name string, n, minN, maxN int) bool {
	switch {
	case n < minN:
		v.Add(name, "Member must have length greater than or equal to %d", minN)
		return false
	case maxN > 0 && n > maxN:
		v.Add(name, "Member must have length less than or equal to %d", maxN)
		return false
	}
	return true
}

// IntRange checks an optional integer member.
func (v *Errors) IntRange(name string, n *int32, minN, maxN int32) {
	if n == nil {
		return
	}
	if *n < minN {
		v.Add(name, "Member must have value greater than or equal to %d", minN)
	} else if *n > maxN {
		v.Add(name, "Member must have value less than or equal to %d", maxN)
	}
}

// OneOf checks an enum member.
func (v *Errors) OneOf(name, s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	v.Add(name, "Member must satisfy enum value set: [%s]", strings.Join(allowed, ", "))
	return false
}

// Tag constraints shared by every taggable resource.
var (
	tagKeyRE   = regexp.MustCompile(`^[a-zA-Z0-9\s_.:/=+\-@]+$`)
	tagValueRE = regexp.MustCompile(`^[a-zA-Z0-9\s_.:/=+\-@]*$`)
)

// Tags checks a tag map: at most 50 tags, keys 1-128 characters not starting
// with "aws:", values 0-256 characters.
func (v *Errors) Tags(name string, tags map[string]string) {
	if !v.Count(name, len(tags), 0, 50) {
		return
	}
	for k, val := range tags {
		if !v.String(name+".key", k, 1, 128, tagKeyRE) {
			return
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			v.Add(name+".key", "Tag keys must not begin with the reserved prefix 'aws:'")
			return
		}
		if !v.String(name+".value", val, 0, 256, tagValueRE) {
			return
		}
	}
}
