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
