"""`make bench`: the portal's speed and memory at an organization's scale (issue 12's figures).

One command starts its own slapd seeded offline with BENCH_PEOPLE people, a throwaway PostgreSQL
database with their registrations, the machine's Redis (a database number of its own), the SMTP
sink and the dev OpenID Connect provider, runs the portal with deploy/gunicorn.conf.py and prints
one line per figure: `bench: NAME VALUE UNIT goal OP TARGET PASS|FAIL`. The README's benchmark
section says what each figure means. Not part of `make test`: timings belong here, not in tests.
"""
