// Package store keeps the reference server's state in an embedded SQLite
// file (modernc.org/sqlite: pure Go). The schema is versioned by the
// migrations embedded in the binary and applied at open.
//
// Writes go through a single connection, so they never wait on a busy lock
// held by another connection of this process; reads use a pool of read-only
// connections, which WAL lets run alongside the writer.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a unique value is already taken.
var ErrConflict = errors.New("already exists")

// Store is the database. It is safe for concurrent use.
type Store struct {
	queries
	w   *sql.DB // one connection: every write and every transaction
	r   *sql.DB // read-only pool
	gen *atomic.Uint64
}

// Tx is a write transaction. Its methods are the Store's.
type Tx struct {
	queries
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries holds the statements shared by Store and Tx: w writes, r reads.
// Inside a transaction both are the transaction.
type queries struct {
	w, r querier
}

// Open opens (creating it if needed) the database file at path and applies
// the pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	// Create the file readable by its owner only; SQLite gives the WAL and
	// shared-memory files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	dsn := func(extra string) string {
		v := url.Values{}
		v.Add("_pragma", "busy_timeout(10000)")
		v.Add("_pragma", "foreign_keys(1)")
		v.Add("_pragma", "synchronous(NORMAL)")
		v.Set("_txlock", "immediate")
		if extra != "" {
			v.Add("_pragma", extra)
		}
		return "file:" + path + "?" + v.Encode()
	}
	w, err := sql.Open("sqlite", dsn("journal_mode(WAL)"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	gen := new(atomic.Uint64)
	return &Store{queries: queries{w: counted{w, gen}, r: r}, w: w, r: r, gen: gen}, nil
}

// Generation changes after every write this Store commits (it never goes
// back). A value read before a look-up and unchanged afterwards proves the
// looked-up rows are still current: callers cache on it. Writes made by
// another process on the same file are not seen.
func (s *Store) Generation() uint64 { return s.gen.Load() }

// counted is the writer outside transactions: each statement commits on its
// own, and the generation moves once it has. (A statement whose rows are read
// after the call, such as INSERT … RETURNING, commits only when they are
// read: the store runs those inside InTx alone, whose commit moves it.)
type counted struct {
	querier
	gen *atomic.Uint64
}

func (c counted) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	defer c.gen.Add(1)
	return c.querier.ExecContext(ctx, query, args...)
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// InTx runs fn in one write transaction: everything fn writes is committed
// together, or nothing is when fn returns an error.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&Tx{queries{w: tx, r: tx}}); err != nil {
		tx.Rollback()
		return err
	}
	defer s.gen.Add(1) // after the commit: see Generation
	return tx.Commit()
}

// SchemaVersion is the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

func migrate(ctx context.Context, db *sql.DB) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var current int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return err
	}
	if current > len(names) {
		return fmt.Errorf("schema version %d is newer than this binary knows (%d): upgrade movitera", current, len(names))
	}
	for i, name := range names {
		version := i + 1
		if !strings.HasPrefix(strings.TrimPrefix(name, "migrations/"), fmt.Sprintf("%04d_", version)) {
			return fmt.Errorf("migration %s is out of sequence", name)
		}
		if version <= current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(version)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func nanos(t time.Time) int64 { return t.UTC().UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func optNanos(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: nanos(*t), Valid: true}
}

func optTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
