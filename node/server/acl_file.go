package server

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/shoal-dev/shoal/node/config"
	"github.com/shoal-dev/shoal/node/persistence"
)

// ACL LOAD and ACL SAVE with aclfile, and the file's load at start-up
// (Redis's ACLLoadUsersAtStartup).

const errNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

// loadACLFileAtStart loads aclfile when it is set; users in the config
// file as well is an error, as in Redis.
func (s *Server) loadACLFileAtStart() error {
	if s.cfg.ACLFile == "" {
		return nil
	}
	if len(s.cfg.Users) > 0 {
		return errors.New("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. " +
			"This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.")
	}
	if msg := s.loadACLFile(nil); msg != "" {
		return errors.New("Aborting Redis startup because of ACL errors: " + msg)
	}
	return nil
}

// loadACLFile replaces the users by the file's (all or nothing) and
// disconnects the clients of the users replaced; it returns Redis's
// error text, "" on success. The caller (nil at start-up) is closed
// after its reply when its user is one of them.
func (s *Server) loadACLFile(caller *Client) string {
	data, err := os.ReadFile(s.cfg.ACLFile)
	if err != nil {
		return fmt.Sprintf("Error loading ACLs, opening file '%s': %s", s.cfg.ACLFile, config.ErrnoText(err))
	}
	next, msg := s.acl.users.ParseFile(s.cfg.ACLFile, string(data))
	if msg != "" {
		return msg
	}
	for _, u := range s.acl.users.Adopt(next) {
		for _, cl := range s.clients {
			if cl.aclUser != u {
				continue
			}
			if cl == caller {
				cl.closeAfter = true // after this reply
			} else {
				cl.kill()
			}
		}
	}
	return ""
}

func cmdACLLoad(c *Client) {
	s := c.srv
	if s.cfg.ACLFile == "" {
		c.Error(errNoACLFile)
		return
	}
	if msg := s.loadACLFile(c); msg != "" {
		c.Error("ERR " + msg)
		return
	}
	c.W.OK()
}

func cmdACLSave(c *Client) {
	s := c.srv
	if s.cfg.ACLFile == "" {
		c.Error(errNoACLFile)
		return
	}
	err := persistence.WriteFileAtomic(s.cfg.ACLFile, func(w io.Writer) error {
		_, err := io.WriteString(w, s.acl.users.FileText())
		return err
	})
	if err != nil {
		s.log.Printf("Opening temp ACL file for ACL SAVE: %v", err)
		c.Error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	c.W.OK()
}
