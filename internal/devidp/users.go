package devidp

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// User statuses, as Cognito reports them.
const (
	StatusForceChangePassword = "FORCE_CHANGE_PASSWORD"
	StatusConfirmed           = "CONFIRMED"
)

// User is a pool user. Attributes hold standard and custom attributes
// (email, …) besides "sub", which is fixed at creation.
type User struct {
	PoolID       string            `json:"poolId"`
	Username     string            `json:"username"`
	Sub          string            `json:"sub"`
	PasswordHash string            `json:"passwordHash"`
	Status       string            `json:"status"`
	Enabled      bool              `json:"enabled"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Created      time.Time         `json:"created"`
	Modified     time.Time         `json:"modified"`
}

// userKey folds case: new Cognito pools treat usernames case-insensitively.
func userKey(poolID, username string) string { return poolID + "/" + strings.ToLower(username) }

func userNotFound() error { return cognitoErr(CodeUserNotFound, "User does not exist.") }

// CreateUser is AdminCreateUser: the user starts with a temporary
// password (generated if empty) and must have it replaced.
func (s *Service) CreateUser(ctx context.Context, account, poolID, username, tempPassword string, attrs map[string]string) (User, error) {
	if _, err := s.Pool(ctx, account, poolID); err != nil {
		return User{}, err
	}
	if username == "" || len(username) > 128 || strings.ContainsAny(username, " \t\r\n") {
		return User{}, InvalidParameter("Username must be 1-128 characters without whitespace.")
	}
	if tempPassword == "" {
		tempPassword = randomString(alnum, 12) + "a1A!"
	}
	if err := checkPasswordPolicy(tempPassword); err != nil {
		return User{}, err
	}
	now := s.now().UTC()
	u := User{PoolID: poolID, Username: username, Sub: uuid.NewString(), PasswordHash: HashPassword(tempPassword),
		Status: StatusForceChangePassword, Enabled: true, Attributes: map[string]string{}, Created: now, Modified: now}
	for k, v := range attrs {
		if k != "sub" {
			u.Attributes[k] = v
		}
	}
	err := s.create(ctx, kindUser, userKey(poolID, username), u, 0)
	if errors.Is(err, store.ErrConflict) {
		return User{}, cognitoErr(CodeUsernameExists, "User account already exists")
	}
	return u, err
}

// SetUserPassword is AdminSetUserPassword; permanent confirms the user.
func (s *Service) SetUserPassword(ctx context.Context, account, poolID, username, password string, permanent bool) error {
	if _, err := s.Pool(ctx, account, poolID); err != nil {
		return err
	}
	if err := checkPasswordPolicy(password); err != nil {
		return err
	}
	hash := HashPassword(password) // outside the row lock: hashing is slow on purpose
	_, err := update(ctx, s, kindUser, userKey(poolID, username), func(u *User) error {
		u.PasswordHash, u.Status, u.Modified = hash, StatusForceChangePassword, s.now().UTC()
		if permanent {
			u.Status = StatusConfirmed
		}
		return nil
	})
	return notFoundAs(err, cognitoErr(CodeUserNotFound, "User does not exist."))
}

// User is AdminGetUser.
func (s *Service) User(ctx context.Context, account, poolID, username string) (User, error) {
	if _, err := s.Pool(ctx, account, poolID); err != nil {
		return User{}, err
	}
	return s.user(ctx, poolID, username)
}

func (s *Service) user(ctx context.Context, poolID, username string) (User, error) {
	var u User
	_, err := s.get(ctx, kindUser, userKey(poolID, username), &u)
	if errors.Is(err, store.ErrNotFound) {
		return User{}, userNotFound()
	}
	return u, err
}

// DeleteUser is AdminDeleteUser.
func (s *Service) DeleteUser(ctx context.Context, account, poolID, username string) error {
	if _, err := s.Pool(ctx, account, poolID); err != nil {
		return err
	}
	return notFoundAs(s.st.Delete(ctx, kindUser, storeAccount, userKey(poolID, username)), cognitoErr(CodeUserNotFound, "User does not exist."))
}

// errBadLogin is the one answer to a wrong username or password, so the
// two cannot be told apart.
func errBadLogin() error { return cognitoErr(CodeNotAuthorized, "Incorrect username or password.") }

// Authenticate checks a user's password. A user who still has a
// temporary password cannot sign in: this IdP does not implement the
// NEW_PASSWORD_REQUIRED challenge.
func (s *Service) Authenticate(ctx context.Context, poolID, username, password string) (User, error) {
	u, err := s.user(ctx, poolID, username)
	if err != nil {
		if awserr.IsCode(err, CodeUserNotFound) {
			HashPassword(password) // same work as a real check, against user enumeration by timing
			return User{}, errBadLogin()
		}
		return User{}, err
	}
	ok, err := VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return User{}, err
	}
	switch {
	case !ok:
		return User{}, errBadLogin()
	case !u.Enabled:
		return User{}, cognitoErr(CodeNotAuthorized, "User is disabled.")
	case u.Status != StatusConfirmed:
		return User{}, cognitoErr(CodeNotAuthorized, "User must set a permanent password first (AdminSetUserPassword with Permanent).")
	}
	return u, nil
}

// UserBySub finds a pool's user by subject. Pools of a development IdP are
// small, so a scan beats keeping an index consistent.
func (s *Service) UserBySub(ctx context.Context, poolID, sub string) (User, error) {
	var found User
	errFound := errors.New("found")
	err := s.listAll(ctx, kindUser, poolID+"/", func(r store.Record) error {
		var u User
		if decodeInto(r, &u) == nil && u.Sub == sub {
			found = u
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return found, nil
	}
	if err == nil {
		err = userNotFound()
	}
	return User{}, err
}
