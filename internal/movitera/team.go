package movitera

// Role is a person's role in a team.
type Role string

// Roles: a vault manager may create never-expiring tokens; a member may not.
const (
	RoleManager Role = "manager"
	RoleMember  Role = "member"
)

// Team is a team as the API describes it, with the caller's role in it.
type Team struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
	Role Role   `json:"role"`
}

// User is the person behind a token.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// ValidTeamSlug reports whether s has the shape of a team slug:
// ^[a-z0-9][a-z0-9-]{0,62}$ (checked without a regular expression, which
// would be compiled at every start of the binary).
func ValidTeamSlug(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
