package awsproto

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
)

// Epoch is a timestamp serialized the restJson1 default way: a JSON number
// of seconds since the Unix epoch (milliseconds kept as a fraction). The SDKs
// fail the whole call if they get an ISO string here instead.
type Epoch time.Time

// MarshalJSON renders seconds with millisecond precision.
func (e Epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 { // before 1970: keep floor semantics
		sec, frac = sec-1, frac+1000
	}
	if frac == 0 {
		return strconv.AppendInt(nil, sec, 10), nil
	}
	b := strconv.AppendInt(nil, sec, 10)
	b = append(b, '.')
	f := strconv.FormatInt(frac+1000, 10)[1:] // zero-padded 3 digits
	return append(b, f...), nil
}

// EpochPtr returns an *Epoch, or nil for the zero time.
func EpochPtr(t time.Time) *Epoch {
	if t.IsZero() {
		return nil
	}
	e := Epoch(t)
	return &e
}

// EncodeToken turns the last key of a page into an opaque NextToken.
func EncodeToken(key string) *string {
	if key == "" {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString([]byte(key))
	return &s
}

// DecodeToken reverses EncodeToken; a token that was not ours is a
// ValidationException naming the member.
func DecodeToken(member string, token *string) (string, error) {
	if token == nil || *token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil || len(b) == 0 {
		return "", awserr.Field(awserr.FieldError{Name: member, Message: "invalid pagination token"})
	}
	return string(b), nil
}
