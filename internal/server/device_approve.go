package server

import (
	"errors"
	"net/http"

	"github.com/movitera/movitera/internal/store"
)

// findUserCode looks a typed code up for a signed-in person. Every look-up
// takes an attempt from the session's, the address's and the person's
// buckets first (RFC 8628 §5.1), given back when the code exists; when a
// bucket is empty no look-up is made. On failure it writes the answer and
// returns nil.
func (s *Server) findUserCode(w http.ResponseWriter, r *http.Request, pr *pageRequest, typed string) *store.DeviceCode {
	now := s.now()
	keys := []keyed{
		bucketOf("session", pr.sess.IDHash, failuresPerSession),
		bucketOf("ip", s.clientNet(r), failuresPerIP),
		bucketOf("user-code", pr.user.ID, codeFailuresPerUser),
	}
	if wait, ok := s.limits.reserve(now, keys...); !ok {
		s.pages.tooMany(w, wait)
		return nil
	}
	code, ok := normalizeUserCode(typed)
	if !ok {
		s.codePage(w, http.StatusBadRequest, pr, typed, "That is not a valid code. It has 8 letters, like BCDF-GHJK, as shown in your terminal.")
		return nil
	}
	d, err := s.db.DeviceByUserCode(r.Context(), code)
	if errors.Is(err, store.ErrNotFound) {
		s.codePage(w, http.StatusBadRequest, pr, typed, "No sign-in is waiting for that code. Check the code in your terminal and type it again.")
		return nil
	}
	s.limits.refund(now, keys...)
	if err != nil {
		s.pageError(w, r, err)
		return nil
	}
	switch {
	case !now.Before(d.ExpiresAt):
		s.codePage(w, http.StatusBadRequest, pr, "", "That code has expired. Start the sign-in again from your terminal and enter the new code.")
		return nil
	case d.Status != store.DevicePending:
		s.codePage(w, http.StatusBadRequest, pr, "", "That code was already used. Start the sign-in again from your terminal if you still need to.")
		return nil
	}
	return d
}

// confirmPage shows the code, the device, the client and the team picker.
func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request, pr *pageRequest, typed, problem string) {
	d := s.findUserCode(w, r, pr, typed)
	if d == nil {
		return
	}
	teams, err := s.db.TeamsOf(r.Context(), pr.user.ID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if len(teams) == 0 {
		s.pages.message(w, http.StatusForbidden, "No team", "You are not a member of any team, so there is nothing to sign this device in to. Ask a vault manager to add you to a team.")
		return
	}
	pick := teams[0].Slug
	if want := r.PostForm.Get("team"); want != "" {
		pick = want
	} else if d.TeamHint != "" {
		pick = d.TeamHint
	}
	opts := make([]teamOption, len(teams))
	for i, t := range teams {
		opts[i] = teamOption{Team: t, Selected: t.Slug == pick}
	}
	name := d.DeviceName
	if name == "" {
		name = "(no name given)"
	}
	cl := clients[d.ClientID]
	status := http.StatusOK
	if problem != "" {
		status = http.StatusBadRequest
	}
	s.pages.render(w, status, "confirm", pageData{
		Title: "Approve sign-in", CSRF: pr.sess.CSRF, UserCode: displayUserCode(d.UserCode), Error: problem,
		DeviceName: name, ClientLabel: cl.Label + " (" + d.ClientID + ")", TokenType: cl.Type.Label(),
		SignedInAs: pr.user.Email, Teams: opts,
	})
}

// deviceApprove is POST /device/approve: action=approve with a team, or
// action=deny.
func (s *Server) deviceApprove(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.begin(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	if pr.user == nil {
		s.signInPage(w, http.StatusOK, pr, codeForForm(f.Get("user_code")), "", "")
		return
	}
	action := f.Get("action")
	if action != "approve" && action != "deny" {
		s.pages.message(w, http.StatusBadRequest, "Bad request", "Choose Approve or Deny. Nothing was changed.")
		return
	}
	d := s.findUserCode(w, r, pr, f.Get("user_code"))
	if d == nil {
		return
	}
	ctx := r.Context()
	if action == "deny" {
		if _, err := s.db.DecideDevice(ctx, d.DeviceHash, store.DeviceDenied, pr.user.ID, 0); err != nil {
			s.pageError(w, r, err)
			return
		}
		s.pages.render(w, http.StatusOK, "message", pageData{Title: "Sign-in denied",
			Message: "The device was not signed in, and no token was created. You can close this page and go back to your terminal."})
		return
	}
	slug := f.Get("team")
	team, err := s.db.TeamBySlug(ctx, slug)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.pageError(w, r, err)
		return
	}
	if team != nil {
		if _, err = s.db.Role(ctx, pr.user.ID, team.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.pageError(w, r, err)
			return
		}
	}
	if team == nil || err != nil {
		s.confirmPage(w, r, pr, d.UserCode, "Pick one of your teams.")
		return
	}
	done, err := s.db.DecideDevice(ctx, d.DeviceHash, store.DeviceApproved, pr.user.ID, team.ID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if !done {
		s.codePage(w, http.StatusBadRequest, pr, "", "That code was already used. Start the sign-in again from your terminal if you still need to.")
		return
	}
	s.pages.render(w, http.StatusOK, "message", pageData{Title: "Device approved",
		Message: "You can go back to your terminal. The device is signed in to team " + team.Name + " (" + team.Slug + ")."})
}
